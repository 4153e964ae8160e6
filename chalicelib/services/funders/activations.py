"""« Share of trainees who activated their account » on the funder's dashboard: a dossier counts
once its linked account is activated, that is once its first-login steps are done (a password or
FranceConnect, and the secret question: `Account.pending_step(None) is None`, what the dossier
look-up shows as « activé »; the CGU come back with every version, so they are not part of it).

Counted at write time, from the two moments it can become true:
- an account finishes its first login (`account_activated`): each of its dossiers;
- a dossier is linked to an account already activated (`dossier_linked`): « Ajouter un
  dossier », FranceConnect, a funder file that links an awaiting account.
Each count is a transaction that checks the dossier is still linked to that account and puts a
per-dossier marker if absent, so a retry, a second event or two concurrent ones never count a
dossier twice; a dossier that leaves its account (closure, withdrawal) takes its marker back
with the count (store/erasure.py).

Left as it is: an activation and a link of the same account within the same second may both
miss the other (the account's dossiers are listed by an eventually consistent index); the
recount test (tests/integration/test_funder_dashboard.py) would show it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from chalicelib.services.accounts.model import Account
from chalicelib.services.formatting import paris_month
from chalicelib.services.trainings.dossiers import Dossier


class ActivationCounters(Protocol):
    def count_activation(
        self, funder_code: str, dossier_number: str, account_id: str, month: str
    ) -> bool:
        """+1 unless counted already or the dossier is no longer linked to `account_id`."""
        ...

    def uncount_activation(self, funder_code: str, dossier_number: str, month: str) -> bool:
        """-1 if the dossier was counted (and forget it)."""
        ...


class AccountDossiers(Protocol):
    def list_for_account(self, account_id: str) -> list[Dossier]: ...


def is_activated(account: Account) -> bool:
    return account.pending_step(None) is None


class AccountActivations:
    def __init__(
        self,
        dossiers: AccountDossiers,
        counters: ActivationCounters,
        clock: Callable[[], datetime],
    ) -> None:
        self._dossiers = dossiers
        self._counters = counters
        self._clock = clock

    def account_activated(self, account: Account) -> int:
        """After the step that completes the first login: counts each of its dossiers."""
        if not is_activated(account):
            return 0
        month = paris_month(self._clock())
        return sum(
            self._counters.count_activation(
                dossier.funder_code, dossier.dossier_number, account.account_id, month
            )
            for dossier in self._dossiers.list_for_account(account.account_id)
        )

    def dossier_linked(self, account: Account, funder_code: str, dossier_number: str) -> bool:
        """After a link: counts the dossier if its account is activated already."""
        if not is_activated(account):
            return False
        return self._counters.count_activation(
            funder_code, dossier_number, account.account_id, paris_month(self._clock())
        )
