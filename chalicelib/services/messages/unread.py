"""Unread messages counts as a session carries them.

The count shows at the top right of every signed-in page, and a page may spend at most three
DynamoDB requests, the session check included (docs/specs/performance.md). So the count travels on
the session item, which every page reads anyway: a snapshot of the owner's unread counters, one per
funder (a funder may switch messages off: its count must then stop showing), with the version it was
taken at, so that an older snapshot never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from chalicelib.services.accounts.model import Account, AccountKind

if TYPE_CHECKING:
    from chalicelib.services.funders.model import Funder

TRAINEE_PREFIX = "trainee#"
ORGANISATION_PREFIX = "organisation#"


@dataclass(frozen=True)
class UnreadSnapshot:
    # Whose messages the session reads: "trainee#<account id>" or "organisation#<SIRET>".
    owner: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)  # unread messages by funder code
    version: int = 0

    def total(self, messages_enabled: Callable[[str], bool]) -> int:
        return sum(count for funder, count in self.counts.items() if messages_enabled(funder))

    def lowered(self, funder_code: str, read: int) -> UnreadSnapshot:
        """This snapshot once `read` messages of that funder were read, one version later."""
        counts = dict(self.counts)
        counts[funder_code] = max(0, counts.get(funder_code, 0) - read)
        return UnreadSnapshot(self.owner, counts, self.version + 1)

    @property
    def organisation_siret(self) -> str | None:
        """The organisation of a staff session; None for a trainee's."""
        if self.owner and self.owner.startswith(ORGANISATION_PREFIX):
            return self.owner.removeprefix(ORGANISATION_PREFIX)
        return None


def trainee_owner(account_id: str) -> str:
    return f"{TRAINEE_PREFIX}{account_id}"


def organisation_owner(siret: str) -> str:
    return f"{ORGANISATION_PREFIX}{siret}"


def owner_of(account: Account) -> str | None:
    if account.kind is AccountKind.STAFF:
        return (
            organisation_owner(account.organisation_siret) if account.organisation_siret else None
        )
    return trainee_owner(account.account_id)


class UnreadCounts:
    """The count at the top right of every signed-in page, from the session alone: no request,
    and none of the messages' use cases loaded for it (a cold « Mes formations » shows it)."""

    def __init__(self, funders: Callable[[], Mapping[str, Funder]]) -> None:
        self._funders = funders  # the five-minute cache of « Mes formations »

    def total(self, snapshot: UnreadSnapshot) -> int:
        """What the session's `unread` snapshot counts for funders that offer messages now."""
        return snapshot.total(self._messages_enabled)

    def _messages_enabled(self, funder_code: str) -> bool:
        funder = self._funders().get(funder_code)
        return funder is not None and funder.messages_enabled
