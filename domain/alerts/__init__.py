"""Alerts: problems someone must look at, raised once per problem and cleared when it goes away.

Modules: ``raising`` (raise and clear, deduplicated by kind and subject).
Every capability raises through it; it depends only on the kernel.
"""
