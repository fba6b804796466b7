"""The GraphQL documents the console sends: plain strings, what any other client of the API would send.

A ``(field, selection)`` pair is a top-level list the console reads through
``GraphQLClient.listing``, which asks for ``nodes { … }`` once the field is a
connection, so those survive a list turning into a Relay connection.
"""

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
      events { eventId type: typeCode actor source reason createdAt before after payloadRef }
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

RECONCILIATIONS = "query { reconciliations(first: 30) { nodes { day status ordersChecked ordersDiffering } } }"


def per_day(field: str, args: str, selection: str, days: int) -> str:
    """One aliased field per day (``d0`` the oldest): ``$s0``/``$u0``… are the day's bounds."""
    params = ", ".join(f"$s{i}: DateTime!, $u{i}: DateTime!" for i in range(days))
    body = " ".join(f"d{i}: {field}({args.format(s=f'$s{i}', u=f'$u{i}')}) {{ {selection} }}" for i in range(days))
    return f"query({params}) {{ {body} }}"


# -- webhooks (admins; a partner key sees its own) ----------------------------------------------------------------

WEBHOOK_ENDPOINTS = "webhookEndpoints", ("id url description eventTypes status disabledReason disabledAt failingSince createdAt "
                   "secrets { prefix createdAt expiresAt }")
WEBHOOK_DELIVERIES = """
query Deliveries($id: ID!, $status: [WebhookDeliveryStatus!], $after: String) {
  webhookEndpoint(id: $id) {
    id url status
    deliveries(status: $status, first: 30, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id webhookId eventId eventType status attemptCount nextAttemptAt lastStatusCode lastError createdAt
              deliveredAt attempts { attemptedAt statusCode latencyMs error responseExcerpt } }
    }
  }
}"""
REPLAY_DELIVERY = """
mutation Replay($id: ID!) {
  replayWebhookDelivery(id: $id) { delivery { id status } errors { code message field } }
}"""

# -- rules ----------------------------------------------------------------------------------------------------------

RULES = "rules", "id name description enabled version template updatedAt current { triggers scheduleMinutes }"
RULE_TEMPLATES = "ruleTemplates", "key description condition triggers scheduleMinutes actions"
RULE = """
query Rule($id: ID!) {
  rule(id: $id) {
    id name description enabled version template updatedAt
    current { version condition triggers scheduleMinutes actions createdBy createdAt }
    versions { version condition triggers scheduleMinutes actions createdBy createdAt }
    firings(first: 30) { nodes { at orderNumber version actions } }
  }
}"""
_RULE_PAYLOAD = "rule { id name enabled version } errors { code message field }"
RULE_FROM_TEMPLATE = (f"mutation($template: String!, $name: String) "
                      f"{{ createRuleFromTemplate(template: $template, name: $name) {{ {_RULE_PAYLOAD} }} }}")
RULE_ENABLED = f"mutation($id: ID!, $enabled: Boolean!) {{ setRuleEnabled(id: $id, enabled: $enabled) {{ {_RULE_PAYLOAD} }} }}"
DRY_RUN = """
mutation DryRun($id: ID!, $days: Int!) {
  dryRunRule(ruleId: $id, days: $days) {
    result { eventsScanned ordersScanned evaluations ordersHit errorCount errors evaluationMs evaluationUsPerEvent
             totalMs truncated hits { orderNumber eventType actions } }
    errors { code message field }
  }
}"""

# -- warehouses, catalogue, stock ----------------------------------------------------------------------------------

WAREHOUSES = "warehouses", "id code name province city region priority active"
STOCK_LEVELS = """
query Stock($sku: String, $warehouse: ID, $lowOnly: Boolean!, $after: String) {
  stockLevels(sku: $sku, warehouse: $warehouse, lowOnly: $lowOnly, first: 50, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id sku onHand reserved available safety inTransit quarantine lowStockThreshold low warehouse { code name } }
  }
}"""
CATALOG = """
query Catalog($skus: [String!]) {
  catalogItems(filter: {skus: $skus}, first: 100) { nodes { sku title category active } }
}"""

# -- channels and carrier accounts ---------------------------------------------------------------------------------

CHANNEL_PULLING = "channels", "code kind name pulling { enabled lastSuccessAt lagSeconds lastError }"
INTAKE_CHANNELS = "intakeChannels", "code kind name hasSecret hookPath"
CARRIER_ACCOUNTS = "carrierAccounts", "provider config hasSecret hookPath"

# -- allocation policy -----------------------------------------------------------------------------------------------

POLICIES = "allocationPolicies", "scope channel version config updatedBy updatedAt"
SET_POLICY = """
mutation SetPolicy($input: SetAllocationPolicyInput!) {
  setAllocationPolicy(input: $input) { policy { scope version } errors { code message field } }
}"""
