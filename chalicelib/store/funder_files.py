"""A funder's file records ("files#<funder>", sort key the file id, newest last), in the funders
table (its dashboard counters are store/dashboard.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.services.funders.files import FileRecord, FileStatus
from chalicelib.store.models import FunderTableItem


def files_partition(funder_code: str) -> str:
    return f"files#{funder_code}"


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
                # Decided by ingestion (services/funder_files/ingestion.py), kept as given.
                report_key=record.report_key,
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
