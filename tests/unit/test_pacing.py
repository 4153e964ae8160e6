"""The mail functions' pacer: one send per interval, never a wait when the previous one is old."""

from __future__ import annotations

from chalicelib.events.notifications import _pacer
from chalicelib.services.mail.pacing import (
    MAIL_CONCURRENCY,
    MAIL_FUNCTIONS,
    SES_SENDING_RATE,
    Pacer,
)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_sends_in_a_row_are_spaced_by_the_interval() -> None:
    time = FakeTime()
    pacer = Pacer(0.25, clock=time.clock, sleep=time.sleep)
    pacer.wait()  # the first send goes at once
    pacer.wait()
    time.now += 0.1  # the mail itself took 100 ms
    pacer.wait()
    assert time.slept == [0.25, 0.15]


def test_no_wait_after_a_pause_longer_than_the_interval() -> None:
    time = FakeTime()
    pacer = Pacer(0.25, clock=time.clock, sleep=time.sleep)
    pacer.wait()
    time.now += 5
    pacer.wait()
    assert time.slept == []


def test_all_copies_of_both_mail_functions_together_stay_at_ses_rate() -> None:
    copies = MAIL_CONCURRENCY * MAIL_FUNCTIONS
    for stage in ("dev", "prod"):
        assert copies / _pacer(stage).interval_seconds == SES_SENDING_RATE
    assert _pacer("test").interval_seconds == 0  # moto's SES has no rate
