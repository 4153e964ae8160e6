"""A funder's file records ("files#<funder>", sort key the file id, newest last) and dashboard
counters ("dashboard#<funder>"), in the funders table."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.services.funders.files import FileRecord, FileStatus
from chalicelib.store.conditional_writes import refusals
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


def files_partition(funder_code: str) -> str:
    return f"files#{funder_code}"


def dashboard_partition(funder_code: str) -> str:
    return f"dashboard#{funder_code}"


def _record(item: FunderTableItem) -> FileRecord:
    return FileRecord(
        funder_code=item.funder or "",
        file_id=item.sk,
        file_name=item.file_name or "",
        key=item.file_key or "",
        status=FileStatus(item.status),
        received_at=item.received_at,  # type: ignore[arg-type]  # always written
        updated_at=item.updated_at,  # type: ignore[arg-type]
        sender=item.sender or "",
        sender_ip=item.sender_ip,
        reason=item.reason,
        counts={name: int(value) for name, value in item.counts.as_dict().items()}
        if item.counts
        else {},
        report_key=item.report_key,
    )


class DynamoFileRecords:
    def receive(self, record: FileRecord) -> bool:
        try:
            FunderTableItem(
                pk=files_partition(record.funder_code),
                sk=record.file_id,
                funder=record.funder_code,
                file_key=record.key,
                file_name=record.file_name,
                status=record.status.value,
                received_at=record.received_at,
                updated_at=record.updated_at,
                sender=record.sender,
                sender_ip=record.sender_ip,
                report_key=record.report_key
                or f"reports/{record.funder_code}/{record.file_name}.report.csv",
            ).save(condition=FunderTableItem.sk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def set_status(
        self,
        funder_code: str,
        file_id: str,
        status: FileStatus,
        when: datetime,
        reason: str | None = None,
        counts: Mapping[str, int] | None = None,
    ) -> None:
        actions = [
            FunderTableItem.status.set(status.value),
            FunderTableItem.updated_at.set(when),
            FunderTableItem.reason.set(reason) if reason else FunderTableItem.reason.remove(),
        ]
        if counts is not None:
            actions.append(FunderTableItem.counts.set(dict(counts)))
        # Only an existing record moves on: a stray update never creates a half record.
        FunderTableItem(pk=files_partition(funder_code), sk=file_id).update(
            actions=actions, condition=FunderTableItem.sk.exists()
        )

    def get(self, funder_code: str, file_id: str) -> FileRecord | None:
        try:
            return _record(FunderTableItem.get(files_partition(funder_code), file_id))
        except DoesNotExist:
            return None

    def latest(self, funder_code: str, limit: int) -> list[FileRecord]:
        return [
            _record(item)
            for item in FunderTableItem.query(
                files_partition(funder_code), scan_index_forward=False, limit=limit
            )
        ]


def month_of(when: datetime) -> str:
    return f"{when:%Y-%m}"


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
        partition = dashboard_partition(funder_code)
        adds = [
            getattr(FunderTableItem, name).add(value)
            for name, value in increments.items()
            if name in COUNTER_NAMES and value
        ]
        try:
            with TransactWrite(connection=Connection(region=FunderTableItem.Meta.region)) as writes:
                writes.save(
                    FunderTableItem(pk=f"counted#{funder_code}", sk=marker, funder=funder_code),
                    condition=FunderTableItem.sk.does_not_exist(),
                )
                if adds:
                    writes.update(FunderTableItem(pk=partition, sk="total"), actions=adds)
                    writes.update(FunderTableItem(pk=partition, sk=f"month#{month}"), actions=adds)
        except TransactWriteError as error:
            if error.cause_response_code == "TransactionCanceledException" and any(
                reason is not None and reason.code == "ConditionalCheckFailed"
                for reason in error.cancellation_reasons
            ):
                return False
            raise
        return True

    def add(self, funder_code: str, month: str, increments: Mapping[str, int]) -> None:
        """Atomic ADDs without a marker, for writes that are themselves exactly-once (a dossier
        created by a conditional write, a mail claimed before it is sent)."""
        partition = dashboard_partition(funder_code)
        adds = [
            getattr(FunderTableItem, name).add(value)
            for name, value in increments.items()
            if name in COUNTER_NAMES and value
        ]
        if adds:
            FunderTableItem(pk=partition, sk="total").update(actions=adds)
            FunderTableItem(pk=partition, sk=f"month#{month}").update(actions=adds)

    def count_activation(
        self, funder_code: str, dossier_number: str, account_id: str, month: str
    ) -> bool:
        """Counts a dossier whose account is activated, at most once: one transaction of a
        check that the dossier is still linked to that account, the dossier's marker put if
        absent and the ADDs. False (nothing added) when it is counted already or no longer
        linked to that account."""
        adds = [FunderTableItem.activated_accounts.add(1)]
        partition = dashboard_partition(funder_code)
        try:
            with TransactWrite(connection=Connection(region=FunderTableItem.Meta.region)) as writes:
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
                writes.update(FunderTableItem(pk=partition, sk="total"), actions=adds)
                writes.update(FunderTableItem(pk=partition, sk=f"month#{month}"), actions=adds)
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in refusals(error):
                return False
            raise
        return True

    def uncount_activation(self, funder_code: str, dossier_number: str, month: str) -> bool:
        """The dossier leaves its account (closure, withdrawal): its marker goes with a minus
        one, in one transaction; False (nothing taken) when it was not counted."""
        subtracts = [FunderTableItem.activated_accounts.add(-1)]
        partition = dashboard_partition(funder_code)
        try:
            with TransactWrite(connection=Connection(region=FunderTableItem.Meta.region)) as writes:
                writes.delete(
                    FunderTableItem(pk=activation_partition(funder_code), sk=dossier_number),
                    condition=FunderTableItem.sk.exists(),
                )
                writes.update(FunderTableItem(pk=partition, sk="total"), actions=subtracts)
                writes.update(FunderTableItem(pk=partition, sk=f"month#{month}"), actions=subtracts)
        except TransactWriteError as error:
            if "ConditionalCheckFailed" in refusals(error):
                return False
            raise
        return True

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
