"""A funder's dashboard counters ("dashboard#<funder>": the total and one item per month) and the
markers that count an activation once ("activated#<funder>"), in the funders table.

The writes that a counter counts (a dossier, a link, a payment mail...) put their ADDs in their
own transaction (`counter_updates`): both happen, or neither."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib.store.conditional_writes import written_unless_refused
from chalicelib.store.models import DossierItem, FunderTableItem

COUNTER_NAMES = (
    "files",
    "lines_rejected",
    "dossiers",
    "linked_accounts",
    "activated_accounts",
    "payment_mails_sent",
    "payment_mails_bounced",
)


def activation_partition(funder_code: str) -> str:
    """One marker per dossier counted in `activated_accounts` (sk the dossier number)."""
    return f"activated#{funder_code}"


def dashboard_partition(funder_code: str) -> str:
    return f"dashboard#{funder_code}"


def counter_updates(
    funder_code: str, month: str, increments: Mapping[str, int]
) -> list[tuple[FunderTableItem, list[Any]]]:
    """The (item, ADD actions) pairs of the funder's total and month, to put in a transaction
    beside the write they count: both happen, or neither."""
    partition = dashboard_partition(funder_code)
    adds = [
        getattr(FunderTableItem, name).add(value)
        for name, value in increments.items()
        if name in COUNTER_NAMES and value
    ]
    if not adds:
        return []
    return [
        (FunderTableItem(pk=partition, sk="total"), adds),
        (FunderTableItem(pk=partition, sk=f"month#{month}"), adds),
    ]


class DynamoDashboardCounters:
    def count_once(
        self, funder_code: str, marker: str, month: str, increments: Mapping[str, int]
    ) -> bool:
        """One transaction: the marker's put-if-absent and the ADDs on the totals and the month.
        A redelivered or concurrent second run fails the marker's condition: nothing added."""

        def fill(writes: TransactWrite) -> None:
            writes.save(
                FunderTableItem(pk=f"counted#{funder_code}", sk=marker, funder=funder_code),
                condition=FunderTableItem.sk.does_not_exist(),
            )
            for item, adds in counter_updates(funder_code, month, increments):
                writes.update(item, actions=adds)

        return written_unless_refused(FunderTableItem.Meta.region, fill)

    def add(self, funder_code: str, month: str, increments: Mapping[str, int]) -> None:
        """Atomic ADDs without a marker, for writes that are themselves exactly-once (a dossier
        created by a conditional write, a mail claimed before it is sent)."""
        for item, adds in counter_updates(funder_code, month, increments):
            item.update(actions=adds)

    def count_activation(
        self, funder_code: str, dossier_number: str, account_id: str, month: str
    ) -> bool:
        """Counts a dossier whose account is activated, at most once: one transaction of a
        check that the dossier is still linked to that account, the dossier's marker put if
        absent and the ADDs. False (nothing added) when it is counted already or no longer
        linked to that account."""

        def fill(writes: TransactWrite) -> None:
            writes.condition_check(
                DossierItem,
                funder_code,
                dossier_number,
                condition=DossierItem.account_id == account_id,
            )
            writes.save(
                FunderTableItem(
                    pk=activation_partition(funder_code), sk=dossier_number, funder=funder_code
                ),
                condition=FunderTableItem.sk.does_not_exist(),
            )
            for item, adds in counter_updates(funder_code, month, {"activated_accounts": 1}):
                writes.update(item, actions=adds)

        return written_unless_refused(FunderTableItem.Meta.region, fill)

    def uncount_activation(self, funder_code: str, dossier_number: str, month: str) -> bool:
        """The dossier leaves its account (closure, withdrawal): its marker goes with a minus
        one, in one transaction; False (nothing taken) when it was not counted."""

        def fill(writes: TransactWrite) -> None:
            writes.delete(
                FunderTableItem(pk=activation_partition(funder_code), sk=dossier_number),
                condition=FunderTableItem.sk.exists(),
            )
            for item, subtracts in counter_updates(funder_code, month, {"activated_accounts": -1}):
                writes.update(item, actions=subtracts)

        return written_unless_refused(FunderTableItem.Meta.region, fill)

    def read(self, funder_code: str, month: str) -> tuple[dict[str, int], dict[str, int]]:
        """The totals and the month's: two GetItem, whatever the funder's size."""
        partition = dashboard_partition(funder_code)
        values = []
        for sort_key in ("total", f"month#{month}"):
            try:
                item = FunderTableItem.get(partition, sort_key)
            except DoesNotExist:
                values.append(dict.fromkeys(COUNTER_NAMES, 0))
                continue
            values.append({name: int(getattr(item, name) or 0) for name in COUNTER_NAMES})
        return values[0], values[1]
