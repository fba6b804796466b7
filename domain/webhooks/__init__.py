"""Partner webhooks: the endpoints merchants register and the deliveries they can replay.

Modules: ``endpoints`` (register, change, rotate secrets, disable/enable,
replay). Sending lives in ``events.webhooks``; this package is the rules.
"""
