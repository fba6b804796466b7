"""Reconciliation: one day's orders compared across the channel, the payment gateway, the ERP and the WMS.

- ``window``: the day in the tenant's time zone, as a UTC range; ``access``: who may run and read;
- ``figures``: what each source says about one order; ``channel``: the channel's and the gateway's
  figures from our tables, a batch at a time; ``systems``: what the ERP invoiced and the WMS shipped,
  asked through the federation ports (one call per batch and system);
- ``compare``: which figures differ beyond the threshold (pure); ``totals``: the run's sums;
- ``run``: ``reconcile_day`` itself (batches, diff rows, the alert, lineage); ``queries``: the latest run
  of a day, runs, diff pages; ``export``: CSV and XLSX bytes; ``schedule``: which days are due.

    run = await reconcile_day(actor, date(2026, 11, 30), systems=SYSTEMS)          # api/, resolvers/ hand SYSTEMS in
    run.status, run.orders_differing, run.totals["quantity"]
    data = await export.to_csv(actor, run.id)
"""
