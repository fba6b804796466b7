"""Receiver contacts a platform sent sealed (Taobao, Pinduoduo, Douyin): shown in clear only to who may see them.

Modules: ``ports`` (what a platform's decryption API must offer, and its
typed refusal; adapters implement it and import nothing else from here) and
``reveal`` (the use case: check the role, load the sealed rows, decrypt once
per channel, leave one lineage event per order shown) and ``phone_keys``
(customers' phone look-up keys recomputed under the server's current key). Clear values are
returned to the caller and written nowhere: not to the database, not to the
lineage, not to the logs. Callers hand the adapters' registry in
(``adapters.channels.decryption.DECRYPTORS``).
"""
