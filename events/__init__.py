"""The event log (which is also the outbox), the bus, and what consumes it."""
