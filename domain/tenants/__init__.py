"""Tenants: the merchants, their API keys and how their customer pages look.

Modules: ``accounts`` (tenants, API keys, turning a key into an ``Actor``)
and ``branding`` (name, logo, a readable accent colour).
"""
