"""Benchmarks, side by side with bare baselines: ``python -m tests.bench`` (``make bench``).

Not part of ``make test``: no module here is named ``test_*``. Everything listens on 127.0.0.1.
"""
