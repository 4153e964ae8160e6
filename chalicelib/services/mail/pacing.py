"""Keeps a sender under a rate: at most one call per interval, waiting when asked too soon."""

from __future__ import annotations

import time
from collections.abc import Callable

# SES's maximum sending rate for the account, in mails per second: 14 when production access is
# granted in eu-west-3 (console SES, « Quotas d'envoi »; raise this with the quota). Each mail
# queue's event source runs at most MAIL_CONCURRENCY copies of its function (app.py), so each
# copy (chalicelib/events/notifications.py) sends at most one mail per MAIL_CONCURRENCY ×
# MAIL_FUNCTIONS / SES_SENDING_RATE seconds: every copy of both mail functions together stays at
# SES's rate. What still goes over (the API's own mails, a lowered quota) is throttled by SES and
# retried from the queue.
SES_SENDING_RATE = 14.0
MAIL_CONCURRENCY = 2
MAIL_FUNCTIONS = 2  # notifications and security_mails share the account's rate
MAIL_INTERVAL_SECONDS = MAIL_CONCURRENCY * MAIL_FUNCTIONS / SES_SENDING_RATE


class Pacer:
    def __init__(
        self,
        interval_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval_seconds = interval_seconds
        self._clock = clock
        self._sleep = sleep
        self._last: float | None = None

    def wait(self) -> None:
        """Returns once `interval_seconds` have passed since the previous return."""
        if self._last is not None:
            remaining = self._last + self.interval_seconds - self._clock()
            if remaining > 0:
                self._sleep(remaining)
        self._last = self._clock()
