"""Alerts: the exception board — problems someone must look at, seen, owned and closed.

Modules: ``kinds`` (the closed vocabulary: kinds, categories, severities and
their SLA, states), ``raising`` (raise, update in place, reopen, clear — once
per problem; every capability raises through it), ``board`` (acknowledge,
assign, snooze, resolve, reopen, wake snoozed ones), ``queries`` (filters and
search over messages and resolutions), ``stats`` (time to acknowledge / close).
They depend only on the kernel.
"""
