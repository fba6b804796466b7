"""WMS adapters behind ``domain.federation.ports.WmsPort``, one module per wire format.

``qimen`` (the Qimen 奇门 standard WMS interface, with ``qimen_wire`` for its
signing and XML), ``rest`` (any JSON WMS described as data: URLs, field names
and JMESPath maps) and ``simulator`` (a local Qimen WMS server with injectable
faults: ``ordergraph sim wms``). The registry the domain is handed is
``adapters.systems.SYSTEMS``.
"""
