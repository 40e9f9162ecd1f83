"""Webhook building blocks: signing, one HTTP attempt, the retry schedule (the SSRF guard and
deadline of every outgoing request are in ``worker.net``)."""

from worker.net.ssrf import ForbiddenTarget, check_url, is_forbidden_ip
from worker.webhooks.http import AttemptResult, make_session, parse_retry_after, post
from worker.webhooks.retry import DEFAULT_RETRY_SCHEDULE, ScheduleError, next_delay, parse_schedule
from worker.webhooks.signing import (
    InvalidSecret,
    headers,
    new_message_id,
    new_secret,
    sign,
    stable_message_id,
)

__all__ = [
    "DEFAULT_RETRY_SCHEDULE",
    "AttemptResult",
    "ForbiddenTarget",
    "InvalidSecret",
    "ScheduleError",
    "check_url",
    "headers",
    "is_forbidden_ip",
    "make_session",
    "new_message_id",
    "new_secret",
    "next_delay",
    "parse_retry_after",
    "parse_schedule",
    "post",
    "sign",
    "stable_message_id",
]
