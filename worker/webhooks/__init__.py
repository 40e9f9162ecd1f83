"""Webhook building blocks: signing, the SSRF guard, one HTTP attempt, the retry schedule."""

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
from worker.webhooks.ssrf import ForbiddenTarget, check_url, is_forbidden_ip

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
