"""The customer tracking page (H5): "where is my order", answered without a phone call.

    site = TrackingSite(settings, sms=sms_sender(settings.sms_gateway_url, settings.sms_gateway_token))
    routes = [..., *tracking_routes(site)]          # /track and /track/...

Modules: ``site`` (state: tenants, sessions, limits), ``routes`` (the route
table), ``handlers`` (the pages), ``returns`` (the return form and its
upload), ``render``/``i18n`` (templates, zh/en), ``session`` (signed
cookies), ``ratelimit``, ``live`` (server-sent updates).
"""

from public_tracking.routes import tracking_routes
from public_tracking.site import TrackingSite

__all__ = ["TrackingSite", "tracking_routes"]
