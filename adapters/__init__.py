"""The outside world, seen from OrderGraph: one package per kind of system, one module per system.

``channels/`` (sales platforms' order payloads), ``carriers/`` (tracking
providers' pushes and replies), ``sms/`` (one-time codes), and room for
``erp/``, ``wms/``, ``notify/`` and ``payments/``. Each module holds one
system's wire format and its signing. ``formats`` bundles them as the ports
the domain's inbound pipeline asks for (``domain.inbound.formats``);
``order_files`` reads CSV/XLSX order files; ``wire``/``reader``/``signing``/
``standard_webhooks`` are the shared parsing and signature helpers.

Adapters turn what other systems send into the domain's normalised shape
(``domain.inbound.normalized``) and import nothing else of the domain but its
types. Parsing is pure: no database, no clock unless one is passed in. Status
codes are carried *raw*; translating them is data in
``domain.inbound.status_maps``, applied by the domain, so a wrong or missing
mapping is visible instead of silent.
"""
