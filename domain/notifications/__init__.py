"""Notifications where people work: alerts routed to WeCom / DingTalk groups and mailboxes, retried, rate-limited.

- ``routes``: the routes a tenant's admins configure (target, sealed config, filters, language, rate);
- ``fanout``: the outbox consumer turning alert lineage rows into deliveries, one per matching route;
- ``sender``: the leader's loop sending due deliveries with retries, and folding a route's excess into digests;
- ``text``: what the messages say, in zh or en, with phones and emails masked;
- ``config``: checking and normalising a target's config; ``ports``: what a messenger must offer.

The messengers themselves are adapters (``adapters.notify``), handed in as a ``Notifiers`` mapping.
"""
