"""What arrives from outside, before any capability applies it: evidence, mapping, quarantine, formats.

Modules: ``normalized`` (the one shape every inbound order and tracking push
is read into), ``formats`` (the ports ``adapters/`` implements: channel,
carrier and file formats), ``pipeline`` (the shared answer and quarantine
step), ``payloads`` (raw bodies kept content-addressed, delivery ids),
``quarantine`` (what could not be applied, until replayed or discarded),
``status_maps`` (default code tables, as data) and ``status_mapping`` (the
tenant's versioned overrides). ``domain.intake`` and ``domain.tracking``
build on it.
"""
