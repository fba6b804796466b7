"""The GraphQL documents the console sends: plain strings, what any other client of the API would send."""

VIEWER = "query { viewer { tenant role seesPersonalData } }"

BOARD = """
query Board($filter: AlertFilter, $after: String) {
  exceptionBoard(filter: $filter, first: 30, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id kind kindCode category severity state subject message owner acknowledgedBy snoozedUntil
      resolution resolvedBy raisedAt dueAt overdue
      order { number }
    }
  }
}"""

_ALERT_PAYLOAD = "alert { id state } errors { code message field }"
ACKNOWLEDGE = f"mutation($id: ID!) {{ acknowledgeAlert(input: {{id: $id}}) {{ {_ALERT_PAYLOAD} }} }}"
ASSIGN = f"mutation($id: ID!, $owner: String!) {{ assignAlert(input: {{id: $id, owner: $owner}}) {{ {_ALERT_PAYLOAD} }} }}"
RESOLVE = (f"mutation($id: ID!, $resolution: String!) "
           f"{{ resolveAlert(input: {{id: $id, resolution: $resolution}}) {{ {_ALERT_PAYLOAD} }} }}")
SNOOZE = f"mutation($id: ID!, $until: DateTime!) {{ snoozeAlert(input: {{id: $id, until: $until}}) {{ {_ALERT_PAYLOAD} }} }}"

ORDER_SEARCH = """
query Orders($search: String!) {
  orders(filter: {search: $search}, first: 30) {
    nodes { id number externalId status totalAmount currency placedAt channel { name } shippingAddress { name phone city } }
  }
}"""

ORDER_DETAIL = """
query Order($search: String!) {
  orders(filter: {search: $search}, first: 5) {
    nodes {
      id number externalId status holdReasons currency totalAmount goodsTotal discountTotal shippingFee taxTotal
      placedAt paidAt createdAt updatedAt tags allowedTransitions
      channel { code name }
      warehouse { code name }
      customer { name phone email }
      shippingAddress { name phone province city district address postalCode }
      lines { sku title quantity unitPrice parcel warehouse { code } }
      events { eventId type actor source reason createdAt before after payloadRef }
      allocation { strategy outcome summary actor decidedAt split
                   candidates { code rank metric score chosen reason } }
      shipments { carrier trackingNo status shippedAt deliveredAt source
                  trackingEvents { status description location occurredAt } }
      payments { gateway reference amount currency status paidAt kind }
      afterSales { kind status reason requestedAmount refundedAmount currency createdAt decisionNote }
      alerts { id kindCode severity state message }
    }
  }
}"""

CHANNELS = "query { channels { code kind name } }"

STATUS_MAP = """
query Map($table: String!) {
  statusMappingTables
  statusMapping(table: $table) {
    name kind version
    entries { code order payment afterSale shipment unmapped origin }
    history { version changedBy reason createdAt }
  }
}"""

SAVE_MAPPING = """
mutation Save($input: SaveStatusMappingInput!) {
  saveStatusMapping(input: $input) { table { version } reevaluatedOrders errors { code message field } }
}"""

RECONCILIATIONS = "query { reconciliations(first: 30) { day status ordersChecked ordersDiffering } }"


def per_day(field: str, args: str, selection: str, days: int) -> str:
    """One aliased field per day (``d0`` the oldest): ``$s0``/``$u0``… are the day's bounds."""
    params = ", ".join(f"$s{i}: DateTime!, $u{i}: DateTime!" for i in range(days))
    body = " ".join(f"d{i}: {field}({args.format(s=f'$s{i}', u=f'$u{i}')}) {{ {selection} }}" for i in range(days))
    return f"query({params}) {{ {body} }}"
