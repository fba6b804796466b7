"""The platform watching itself: which server processes run, and whether each reaches the event bus.

Modules: ``processes`` (the registry of server processes: register, heartbeat,
goodbye, and the leader's check that finds a process lost without a goodbye —
``system.process_lost``), ``event_bus`` (a process reports its Redis connection
down or back — ``system.bus_down``). Both raise their incident on every tenant's
board through ``domain.alerts.platform``.
"""
