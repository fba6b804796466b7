"""The outside world, seen from OrderGraph.

This package turns what other systems send us (channel orders, carrier
tracking pushes) into one normalised shape, so that nothing further in
(``domain/``) has to know a platform's field names, units, clocks or
signature schemes.  Everything here is pure: no database, no HTTP, no clock
unless one is passed in.  Status codes are carried *raw*; translating them
into OrderGraph's vocabulary is data in :mod:`adapters.status_maps`, applied
by the domain, so a wrong or missing mapping is visible instead of silent.
"""
