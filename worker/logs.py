"""Structured JSON logs: one object per line, with article, delivery and subscription ids.

Secrets never reach a log line: tokens and ``whsec_`` secrets are masked by the formatter as a
last line of defence, and no code logs headers or request bodies.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time

CONTEXT_FIELDS = (
    "article_id",
    "delivery_id",
    "subscription_id",
    "source_id",
    "feed",
    "version",
    "origin",
    "reason",
    "error_id",
)
_SECRET = re.compile(r"(whsec_[A-Za-z0-9+/=]+|Bearer\s+\S+)")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                doc[name] = value
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return _SECRET.sub("[redacted]", json.dumps(doc, ensure_ascii=False, default=str))


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("urllib3", "httpx", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
