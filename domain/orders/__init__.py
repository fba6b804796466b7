"""Orders: create them, move them through the state machine, hold and cancel them, ship them.

The package exposes its use cases, so callers write ``orders.cancel_order(...)``:

    from domain import orders
    order = await orders.create_order(actor, orders.NewOrder(...))
    await orders.hold_order(actor, order.id, ["address check"])

Modules: ``create`` (a new order and its input types), ``lifecycle``
(state-machine moves, cancel), ``holds``, ``fulfilment`` (allocate, ship,
carrier scans), ``merge`` (合单: the merge key, the candidate finder, merge and
unmerge) and ``split`` (parcels by hand). The state machine table is ``domain.order_machine`` and the
lock/save helpers every capability shares are ``domain.order_writes``, both in
the kernel below this package. Stock follows an order through
``domain.allocation.order_stock``, called inside the same transaction.
"""

from domain.orders.create import (
    NewAddress,
    NewCustomer,
    NewLine,
    NewOrder,
    NewPayment,
    create_order,
)
from domain.orders.holds import hold_order, release_hold
from domain.orders.lifecycle import cancel_order, transition_order
from domain.orders.merge import MergeBlock, MergeKey, MergeRefused, merge_candidates, merge_key, merge_orders, unmerge_order
from domain.orders.split import split_order

__all__ = [
    "NewAddress", "NewCustomer", "NewLine", "NewOrder", "NewPayment",
    "cancel_order", "create_order", "hold_order", "release_hold", "transition_order",
    "MergeBlock", "MergeKey", "MergeRefused", "merge_candidates", "merge_key", "merge_orders", "unmerge_order",
    "split_order",
]
