"""The funders' dashboards count a dossier as « activated » once, when its linked account has
finished its first login (services/funders/activations.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.services.funders.activations import AccountActivations
from tests.support.fakes import MemoryDossierLookup
from tests.support.funder_fakes import MemoryDashboardCounters
from tests.unit.test_account_linking import awaiting_account, dossier

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def activated_count(counters: MemoryDashboardCounters, funder: str = "region") -> int:
    return counters.read(funder, "2026-12")[0].get("activated_accounts", 0)


def world() -> tuple[AccountActivations, MemoryDossierLookup, MemoryDashboardCounters]:
    dossiers = MemoryDossierLookup(
        dossier("D-1", account_id="acc-1"),
        dossier("D-2", account_id="acc-1"),
        dossier("D-3", account_id="acc-2"),
    )
    counters = MemoryDashboardCounters()
    return AccountActivations(dossiers, counters, lambda: NOW), dossiers, counters


def test_an_account_counts_its_dossiers_once_its_first_login_is_done() -> None:
    activations, _dossiers, counters = world()
    halfway = awaiting_account("acc-1", awaiting_dossier=False)  # no secret question yet
    assert activations.account_activated(halfway) == 0
    assert activated_count(counters) == 0

    done = halfway.updated(secret_question="Ville ?", secret_answer_hash="x$y")
    assert activations.account_activated(done) == 2
    # Told twice (a retried request, a second step page): nothing more.
    assert activations.account_activated(done) == 0
    assert activated_count(counters) == 2


def test_a_dossier_linked_later_counts_only_for_an_activated_account() -> None:
    activations, _dossiers, counters = world()
    not_yet = awaiting_account("acc-2")
    assert not activations.dossier_linked(not_yet, "region", "D-3")
    done = not_yet.updated(secret_question="Ville ?", secret_answer_hash="x$y")
    assert activations.dossier_linked(done, "region", "D-3")
    assert not activations.dossier_linked(done, "region", "D-3")
    assert activated_count(counters) == 1
