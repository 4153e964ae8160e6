"""CGU: versions published once, the current version kept a minute in memory, acceptances."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.services.accounts import terms as terms_module
from chalicelib.services.accounts.terms import (
    CURRENT_VERSION_CACHE_SECONDS,
    Acceptance,
    Terms,
    TermsAlreadyPublished,
    TermsVersion,
)
from tests.support.fakes import FakeClock, MemoryTerms

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


class FakeMonotonic:
    """Stands for time.monotonic inside the terms module."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> FakeMonotonic:
    fake = FakeMonotonic()
    monkeypatch.setattr(terms_module.time, "monotonic", fake)
    return fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def repository() -> MemoryTerms:
    return MemoryTerms()


@pytest.fixture
def terms(repository: MemoryTerms, clock: FakeClock) -> Terms:
    return Terms(repository, clock)


def published_elsewhere(repository: MemoryTerms, version: str) -> None:
    """Another Lambda instance publishes: this instance's cache knows nothing of it."""
    repository.versions[version] = TermsVersion(version, "Texte", START)
    repository.current_pointer = version


# Publishing --------------------------------------------------------------------------------


def test_publishing_makes_the_version_current_with_its_time(terms, repository, clock):
    published = terms.publish(" 2026-01 ", "  # Article 1\n\nTexte des CGU.  ")

    assert published == TermsVersion("2026-01", "# Article 1\n\nTexte des CGU.", clock())
    assert repository.current_version() == "2026-01"
    assert repository.get("2026-01") == published


def test_publishing_an_existing_version_again_is_refused_and_changes_nothing(
    terms, repository, clock
):
    terms.publish("2026-01", "Premier texte")
    terms.publish("2026-02", "Deuxième texte")

    with pytest.raises(TermsAlreadyPublished, match="La version 2026-01 des CGU est déjà publiée"):
        terms.publish("2026-01", "Texte réécrit")

    assert repository.current_version() == "2026-02"
    assert repository.versions["2026-01"].text == "Premier texte"
    assert repository.calls["publish"] == 2


@pytest.mark.parametrize(("version", "text"), [("", "Texte"), ("  ", "Texte"), ("v1", "  \n ")])
def test_a_version_needs_a_name_and_a_text(terms, repository, version, text):
    with pytest.raises(ValueError, match="La version et le texte des CGU sont obligatoires"):
        terms.publish(version, text)

    assert repository.versions == {}


# The current version and its cache ---------------------------------------------------------


def test_without_any_publication_there_is_no_current_version(terms, monotonic):
    assert terms.current_version() is None


def test_the_current_version_is_read_once_and_kept_for_60_seconds(terms, repository, monotonic):
    published_elsewhere(repository, "v1")
    assert terms.current_version() == "v1"
    published_elsewhere(repository, "v2")

    for _ in range(10):
        monotonic.seconds += 6  # 60 s in all
        assert terms.current_version() == "v1"

    assert repository.calls["current_version"] == 1
    assert CURRENT_VERSION_CACHE_SECONDS == 60


def test_the_current_version_is_read_again_after_60_seconds(terms, repository, monotonic):
    published_elsewhere(repository, "v1")
    terms.current_version()
    published_elsewhere(repository, "v2")

    monotonic.seconds += 60.5

    assert terms.current_version() == "v2"
    assert repository.calls["current_version"] == 2


def test_an_absent_version_is_cached_too(terms, repository, monotonic):
    assert terms.current_version() is None
    assert terms.current_version() is None

    assert repository.calls["current_version"] == 1


def test_publishing_here_is_seen_at_once(terms, repository, monotonic):
    terms.publish("v1", "Texte")
    assert terms.current_version() == "v1"

    terms.publish("v2", "Texte")

    assert terms.current_version() == "v2"


# Acceptances -------------------------------------------------------------------------------


def test_an_acceptance_records_account_version_and_time(terms, repository, clock):
    acceptance = terms.accept("acc-1", "v1")

    assert acceptance == Acceptance("acc-1", "v1", clock())
    assert repository.acceptances("acc-1") == [acceptance]


def test_every_acceptance_is_kept_as_proof(terms, repository, clock):
    first = terms.accept("acc-1", "v1")
    clock.advance(days=40)
    second = terms.accept("acc-1", "v2")
    terms.accept("acc-2", "v2")

    assert repository.acceptances("acc-1") == [first, second]
    assert second.accepted_at == datetime(2026, 2, 24, 9, 0, tzinfo=UTC)
