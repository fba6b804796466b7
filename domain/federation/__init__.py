"""Federation: the graph asks the merchant's ERP and WMS, pushes to them, hears from them, and says which one is wrong.

Modules: ``ports`` (what an ERP or WMS adapter must offer, the shapes they
exchange and the evidence each call leaves; adapters implement them and import
nothing else from here), ``connections`` (registering systems, which WMS runs
which warehouse), ``evidence`` (every exchange kept, redacted, and linked from
lineage). The use cases build on the ports and never on a particular system:
the caller hands the adapters in (``adapters.systems.SYSTEMS``).
"""
