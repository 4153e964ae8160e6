"""Anti-automation: growing delays per login identifier, fixed-window rate limits per address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.services.security.throttling import (
    RATE_LIMITS,
    LoginThrottle,
    RateLimiter,
    delay_after,
)
from tests.support.fakes import FakeClock, MemoryCounters

# On the hour: every window of RATE_LIMITS (10 min, 15 min, 1 h) starts here.
START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
ADDRESS = "camille.martin@example.fr"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def counters(clock: FakeClock) -> MemoryCounters:
    return MemoryCounters(clock)


@pytest.fixture
def throttle(counters: MemoryCounters, clock: FakeClock) -> LoginThrottle:
    return LoginThrottle(counters, clock)


def fail(
    throttle: LoginThrottle, times: int, identifier: str = ADDRESS, clock: FakeClock | None = None
) -> datetime | None:
    """`times` wrong tries; given the clock, each waits out the delay in force first."""
    last = None
    for _ in range(times):
        attempt = throttle.begin(identifier)
        if attempt.refused_until is not None and clock is not None:
            clock.set(attempt.refused_until)
            attempt = throttle.begin(identifier)
        last = attempt.refused_until or attempt.lock_if_wrong
    return last


# The delay table ---------------------------------------------------------------------------


@pytest.mark.parametrize("failures", [0, 1, 2, 3, 4])
def test_the_first_four_failures_bring_no_delay(failures):
    assert delay_after(failures) is None


@pytest.mark.parametrize(
    ("failures", "minutes"),
    [(5, 1), (6, 2), (7, 4), (8, 8), (9, 16), (10, 32), (11, 60), (12, 60), (20, 60)],
)
def test_the_delay_starts_at_one_minute_after_the_fifth_failure_and_doubles_up_to_an_hour(
    failures, minutes
):
    assert delay_after(failures) == timedelta(minutes=minutes)


@pytest.mark.parametrize("failures", [45, 46, 100, 10_000])
def test_the_delay_stays_capped_at_an_hour_however_many_failures_pile_up(failures):
    # Parallel requests all pass the lock check before the first failure sets it, so the
    # counter can climb far beyond a dozen.
    assert delay_after(failures) == timedelta(hours=1)


# LoginThrottle -----------------------------------------------------------------------------


def test_four_failures_bring_no_delay(throttle):
    assert fail(throttle, 4) is None
    assert throttle.wait_until(ADDRESS) is None


def test_the_fifth_failure_makes_the_next_try_wait_one_minute(throttle, clock):
    fail(throttle, 4)

    until = throttle.record_failure(ADDRESS)

    assert until == START + timedelta(minutes=1)
    assert throttle.wait_until(ADDRESS) == until


def test_the_wait_is_over_at_exactly_the_time_given(throttle, clock):
    until = fail(throttle, 5)
    assert until is not None

    clock.advance(seconds=59)
    assert throttle.wait_until(ADDRESS) == until

    clock.advance(seconds=1)
    assert throttle.wait_until(ADDRESS) is None


def test_each_further_failure_doubles_the_delay(throttle, clock):
    delays = []
    fail(throttle, 4)
    for _ in range(6):
        until = throttle.record_failure(ADDRESS)
        assert until is not None
        delays.append(until - clock())
        clock.set(until)  # the next try comes as soon as it is allowed

    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32)]


def test_the_delay_is_capped_at_one_hour(throttle, clock):
    clock.set(fail(throttle, 10, clock=clock) or clock())
    for _ in range(5):
        until = throttle.record_failure(ADDRESS)
        assert until == clock() + timedelta(hours=1)
        clock.set(until)


def test_the_delay_stays_one_hour_after_many_more_failures(throttle, clock):
    clock.set(fail(throttle, 60, clock=clock) or clock())

    assert throttle.record_failure(ADDRESS) == clock() + timedelta(hours=1)


def test_a_try_is_counted_before_its_check_and_the_fifth_places_the_delay_at_once(throttle, clock):
    fail(throttle, 4)

    fifth = throttle.begin(ADDRESS)

    assert fifth.allowed and fifth.lock_if_wrong == clock() + timedelta(minutes=1)
    sixth = throttle.begin(ADDRESS)  # concurrent with the fifth, before it is even checked
    assert not sixth.allowed and sixth.refused_until == fifth.lock_if_wrong


def test_a_right_fifth_try_lifts_the_delay_it_placed(throttle):
    fail(throttle, 4)
    assert throttle.begin(ADDRESS).allowed

    throttle.reset(ADDRESS)

    assert throttle.begin(ADDRESS).lock_if_wrong is None


def test_a_refused_try_is_not_counted(throttle, clock):
    until = fail(throttle, 5)
    for _ in range(10):
        assert throttle.begin(ADDRESS).refused_until == until
    clock.set(until)

    assert throttle.begin(ADDRESS).lock_if_wrong == clock() + timedelta(minutes=2)


def test_a_try_that_loses_every_write_round_is_refused_not_let_through(clock):
    class AlwaysBeaten(MemoryCounters):
        def write_tries(self, *args: object, **kwargs: object) -> bool:
            return False

    attempt = LoginThrottle(AlwaysBeaten(clock), clock).begin(ADDRESS)

    assert not attempt.allowed


def test_a_success_resets_the_count(throttle, clock):
    fail(throttle, 5)
    clock.advance(minutes=1)

    throttle.reset(ADDRESS)

    assert throttle.wait_until(ADDRESS) is None
    assert fail(throttle, 4) is None, "four new failures are free again"
    assert throttle.record_failure(ADDRESS) == clock() + timedelta(minutes=1)


def test_failures_are_forgotten_a_day_after_the_last_one(throttle, clock):
    fail(throttle, 4)

    clock.advance(days=1)

    assert throttle.record_failure(ADDRESS) is None


def test_the_identifier_is_compared_without_case_or_surrounding_spaces(throttle):
    fail(throttle, 4, "  Camille.MARTIN@Example.fr ")

    assert throttle.record_failure(ADDRESS) is not None
    assert throttle.wait_until(" CAMILLE.martin@example.FR") is not None


def test_each_identifier_has_its_own_count(throttle):
    fail(throttle, 5)

    assert throttle.wait_until("dominique.durand@example.fr") is None
    assert throttle.record_failure("dominique.durand@example.fr") is None


def test_an_identifier_is_throttled_the_same_whether_or_not_an_account_has_it(clock):
    # The throttle knows no account: the same steps give the same answers for any identifier.
    def answers(identifier: str) -> list[datetime | None]:
        local_clock = FakeClock(START)
        local = LoginThrottle(MemoryCounters(local_clock), local_clock)
        return [local.record_failure(identifier) for _ in range(7)] + [local.wait_until(identifier)]

    assert answers("personne@example.fr") == answers(ADDRESS)


def test_the_stored_key_does_not_contain_the_identifier(throttle, counters):
    fail(throttle, 5)

    assert counters.items
    for key in counters.items:
        assert "camille" not in key.lower() and "example" not in key.lower()


# RateLimiter -------------------------------------------------------------------------------


@pytest.fixture
def limiter(counters: MemoryCounters, clock: FakeClock) -> RateLimiter:
    return RateLimiter(counters, clock)


@pytest.mark.parametrize("action", sorted(RATE_LIMITS))
def test_each_action_allows_its_number_of_requests_per_window_then_refuses(limiter, action):
    limit = RATE_LIMITS[action]

    allowed = [limiter.allow(action, "192.0.2.1") for _ in range(limit.requests)]

    assert all(allowed)
    assert limiter.allow(action, "192.0.2.1") is False
    assert limiter.allow(action, "192.0.2.1") is False


def test_the_limits_are_those_chosen_for_each_endpoint():
    assert {name: (limit.requests, limit.window) for name, limit in RATE_LIMITS.items()} == {
        "login": (30, timedelta(minutes=15)),
        "signup": (10, timedelta(hours=1)),
        "recovery": (10, timedelta(hours=1)),
        "captcha": (60, timedelta(minutes=10)),
        "captcha_audio": (30, timedelta(minutes=10)),
        "verification": (20, timedelta(minutes=10)),
        "funder-lookup": (600, timedelta(hours=1)),
        "funder-name-search": (60, timedelta(hours=1)),
    }


@pytest.mark.parametrize("action", sorted(RATE_LIMITS))
def test_a_new_window_allows_requests_again(limiter, clock, action):
    limit = RATE_LIMITS[action]
    for _ in range(limit.requests + 1):
        limiter.allow(action, "192.0.2.1")

    clock.advance(seconds=limit.window.total_seconds() - 1)
    assert limiter.allow(action, "192.0.2.1") is False, "still the same window"

    clock.advance(seconds=1)
    assert limiter.allow(action, "192.0.2.1") is True


def test_windows_are_fixed_not_sliding(limiter, clock):
    clock.advance(minutes=14)  # near the end of the 09:00-09:15 window
    for _ in range(30):
        assert limiter.allow("login", "192.0.2.1")
    assert not limiter.allow("login", "192.0.2.1")

    clock.advance(minutes=1)  # 09:15: a new window

    assert limiter.allow("login", "192.0.2.1")


def test_each_client_address_has_its_own_count(limiter):
    for _ in range(10):
        limiter.allow("signup", "192.0.2.1")
    assert not limiter.allow("signup", "192.0.2.1")

    assert limiter.allow("signup", "198.51.100.7")
    assert limiter.allow("signup", "2001:db8::1")


def test_each_action_has_its_own_count(limiter):
    for _ in range(11):
        limiter.allow("signup", "192.0.2.1")

    assert limiter.allow("recovery", "192.0.2.1")
    assert limiter.allow("login", "192.0.2.1")


def test_rate_counters_expire_with_their_window(limiter, counters, clock):
    limiter.allow("login", "192.0.2.1")

    (item,) = counters.items.values()
    assert item.expires_at == clock() + timedelta(minutes=15)


def test_the_local_and_test_stages_may_widen_the_per_address_limits() -> None:
    from chalicelib.services.security.throttling import RateLimiter
    from tests.support.fakes import FakeClock, MemoryCounters

    clock = FakeClock()
    limiter = RateLimiter(MemoryCounters(), clock, multiplier=2)
    allowed = [limiter.allow("signup", "192.0.2.1") for _ in range(21)]
    assert allowed.count(True) == 20 and allowed[-1] is False


def test_the_multiplier_is_refused_outside_the_local_and_test_stages() -> None:
    import pytest

    from chalicelib.settings import Settings, SettingsError

    base = {
        "STAGE": "prod",
        "AWS_REGION": "eu-west-3",
        "TABLE_PREFIX": "p",
        "EXCHANGE_BUCKET": "e",
        "DOCUMENTS_BUCKET": "d",
        "FUNDER_FILES_QUEUE": "q",
        "NOTIFICATIONS_QUEUE": "n",
        "SECURITY_MAILS_QUEUE": "s",
        "MAIL_EVENTS_QUEUE": "m",
        "MAIL_SENDER": "a@b.fr",
        "PUBLIC_BASE_URL": "https://portail.example.gouv.fr",
        "RATE_LIMIT_MULTIPLIER": "50",
    }
    with pytest.raises(SettingsError, match="RATE_LIMIT_MULTIPLIER"):
        Settings.from_environment(base)
