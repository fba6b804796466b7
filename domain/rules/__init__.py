"""Business rules as data: CEL conditions over an order's context, triggered by events or schedules.

Modules: ``language`` (compiling CEL the way business users expect numbers to
behave), ``context`` (the documented variables, loaded for many orders at once),
``actions`` (what a rule may do, validated at save time), ``store`` (saving
versions, enabling, templates), ``engine`` (rules indexed by trigger,
evaluation), ``runner`` (the outbox consumer and the schedule), ``dry_run``.
"""
