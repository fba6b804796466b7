"""Tracking: carrier scans applied to shipments, and what the customer sees of their parcels.

Modules: ``receive`` (one provider push through the pipeline, parked while
its waybill is unknown), ``carrier_pushes`` (scans onto shipments, "never
moved" alerts), ``customer_view`` (masked, in customer words), ``customer``
(prove an order is yours, confirm receipt, rate it), ``returns`` (a
customer's return request, checked before ``domain.after_sales`` opens it)
and ``links`` (signed expiring links to one order).
"""
