"""The customer tracking page (H5): "where is my order", answered without a phone call.

    site = TrackingSite(settings, sms=sms_sender(settings.sms_gateway_url, settings.sms_gateway_token))
    routes = [..., *site.routes]          # /track and /track/...
"""

from public_tracking.site import TrackingSite

__all__ = ["TrackingSite"]
