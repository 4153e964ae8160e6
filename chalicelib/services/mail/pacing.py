"""Keeps a sender under a rate: at most one call per interval, waiting when asked too soon."""

from __future__ import annotations

import time
from collections.abc import Callable


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
