"""The funder's dashboard: read from counters maintained at write time (never a table scan), so
reading it costs two GetItem whatever the funder's size.

Who keeps each counter up to date, exactly once per event:
- files and lines rejected: FileTracking.finished, a marker per file in the same transaction;
- dossiers: ingestion, after the conditional write that creates (or the withdrawal that removes)
  a dossier, which only one run wins;
- linked accounts: in the same transaction as the link (sign-up with a number, « Ajouter un
  dossier », FranceConnect), or after ingestion's conditional write for an awaiting account;
  minus one in the same transaction as the unlink of a closed account, or after a withdrawal;
- activated accounts (the dossiers whose linked account finished its first login): one
  transaction with a per-dossier marker (services/funders/activations.py);
- payment mails sent / kept back because the address bounced: after the notice's claim, which
  only one delivery wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.services.formatting import paris_month
from chalicelib.services.funders.activations import ActivationCounters
from chalicelib.services.funders.files import DashboardCounters as FileCounters


class DashboardReader(Protocol):
    def read(self, funder_code: str, month: str) -> tuple[dict[str, int], dict[str, int]]: ...


class DashboardCounters(DashboardReader, FileCounters, ActivationCounters, Protocol):
    """The counters' store as the wiring hands it around: every write above, and the read."""


@dataclass(frozen=True)
class Dashboard:
    month: str
    files_this_month: int
    lines_rejected_this_month: int
    dossiers: int
    linked_accounts: int
    activated_accounts: int
    payment_mails_sent: int
    payment_mails_bounced: int

    @property
    def linked_share(self) -> float | None:
        """Share of the dossiers whose trainee has an account linked (None without dossiers)."""
        return self.linked_accounts / self.dossiers if self.dossiers else None

    @property
    def activated_share(self) -> float | None:
        """Share of the dossiers whose trainee activated the linked account (None without
        dossiers): the issue's « share of trainees who activated their account »."""
        return self.activated_accounts / self.dossiers if self.dossiers else None


class FunderDashboard:
    def __init__(self, counters: DashboardReader, clock: Callable[[], datetime]) -> None:
        self._counters = counters
        self._clock = clock

    def read(self, funder_code: str) -> Dashboard:
        month = paris_month(self._clock())
        total, this_month = self._counters.read(funder_code, month)
        return Dashboard(
            month=month,
            files_this_month=this_month.get("files", 0),
            lines_rejected_this_month=this_month.get("lines_rejected", 0),
            dossiers=total.get("dossiers", 0),
            linked_accounts=total.get("linked_accounts", 0),
            activated_accounts=total.get("activated_accounts", 0),
            payment_mails_sent=total.get("payment_mails_sent", 0),
            payment_mails_bounced=total.get("payment_mails_bounced", 0),
        )
