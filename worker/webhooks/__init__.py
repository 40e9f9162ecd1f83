"""Webhook building blocks: signing (``signing``), one HTTP attempt (``http``), a batch's
attempts in waves (``waves``), the retry schedule (``retry``). The SSRF guard and deadline of
every outgoing request are in ``worker.net``.

Nothing is imported here: a module that only signs (the ingest path) does not load the HTTP
client with it.
"""
