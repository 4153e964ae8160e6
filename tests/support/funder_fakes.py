"""In-memory stand-ins for the funders' space repositories (API keys, file records, counters)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from chalicelib.services.funders.api_keys import ApiKeyRecord
from chalicelib.services.funders.files import FileRecord, FileStatus


class MemoryApiKeys:
    def __init__(self) -> None:
        self.items: dict[str, ApiKeyRecord] = {}
        self.calls: Counter[str] = Counter()

    def create(self, record: ApiKeyRecord) -> bool:
        self.calls["create"] += 1
        if record.key_id in self.items:
            return False
        self.items[record.key_id] = record
        return True

    def get(self, key_id: str) -> ApiKeyRecord | None:
        self.calls["get"] += 1
        return self.items.get(key_id)

    def of_funder(self, funder_code: str) -> list[ApiKeyRecord]:
        return [record for record in self.items.values() if record.funder_code == funder_code]

    def revoke(self, key_id: str, funder_code: str, when: datetime) -> bool:
        record = self.items.get(key_id)
        if record is None or record.funder_code != funder_code or record.revoked_at is not None:
            return False
        self.items[key_id] = replace(record, revoked_at=when)
        return True


class MemoryFileRecords:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], FileRecord] = {}
        self.statuses: list[FileStatus] = []

    def receive(self, record: FileRecord) -> bool:
        key = (record.funder_code, record.file_id)
        if key in self.items:
            return False
        self.items[key] = record  # the report key as given: ingestion decides it
        self.statuses.append(record.status)
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
        record = self.items[(funder_code, file_id)]
        self.items[(funder_code, file_id)] = replace(
            record,
            status=status,
            updated_at=when,
            reason=reason,
            counts=dict(counts) if counts is not None else record.counts,
        )
        self.statuses.append(status)

    def get(self, funder_code: str, file_id: str) -> FileRecord | None:
        return self.items.get((funder_code, file_id))

    def latest(self, funder_code: str, limit: int) -> list[FileRecord]:
        mine = [record for (code, _), record in self.items.items() if code == funder_code]
        return sorted(mine, key=lambda record: record.file_id, reverse=True)[:limit]


class MemoryDashboardCounters:
    def __init__(self) -> None:
        self.markers: set[tuple[str, str]] = set()
        self.values: dict[tuple[str, str], Counter[str]] = {}

    def add(self, funder_code: str, month: str, increments: Mapping[str, int]) -> None:
        for sort_key in ("total", f"month#{month}"):
            self.values.setdefault((funder_code, sort_key), Counter()).update(increments)

    def count_once(
        self, funder_code: str, marker: str, month: str, increments: Mapping[str, int]
    ) -> bool:
        if (funder_code, marker) in self.markers:
            return False
        self.markers.add((funder_code, marker))
        self.add(funder_code, month, increments)
        return True

    def count_activation(
        self, funder_code: str, dossier_number: str, account_id: str, month: str
    ) -> bool:
        """The marker only: the store's check that the dossier is still linked is DynamoDB's
        (tests/integration/test_funder_dashboard.py)."""
        return self.count_once(
            funder_code, f"activated#{dossier_number}", month, {"activated_accounts": 1}
        )

    def uncount_activation(self, funder_code: str, dossier_number: str, month: str) -> bool:
        if (funder_code, f"activated#{dossier_number}") not in self.markers:
            return False
        self.markers.discard((funder_code, f"activated#{dossier_number}"))
        self.add(funder_code, month, {"activated_accounts": -1})
        return True

    def read(self, funder_code: str, month: str) -> tuple[dict[str, int], dict[str, int]]:
        return (
            dict(self.values.get((funder_code, "total"), Counter())),
            dict(self.values.get((funder_code, f"month#{month}"), Counter())),
        )


class MemoryReports:
    def __init__(self) -> None:
        self.texts: dict[str, str] = {}

    def report_text(self, key: str) -> str | None:
        return self.texts.get(key)

    def presigned_get(self, key: str, file_name: str, expires_in: int = 300) -> str:
        return f"https://reports.example/{key}?name={file_name}&expires={expires_in}"
