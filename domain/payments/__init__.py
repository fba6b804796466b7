"""Payments as first-class: references normalised for matching, deposits and balances, gateway notices.

- ``references``: one payment named differently by channel, gateway and ERP, made comparable;
- ``presale``: what the channel's word means for a pre-sale order's deposit and balance payments;
- ``ports``: what a gateway adapter (WeChat Pay v3, Alipay) gives the domain: a verified, parsed notice;
- ``receive`` → ``notices`` → ``confirm``: a gateway's notification kept, matched and applied in one transaction;
- ``review``: the queue of notices a person must match, and their decision;
- ``accounts``: the tenant's gateway keys, sealed at rest;
- ``backfill``: normalised references for payments written before they existed.
"""
