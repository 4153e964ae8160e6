"""In-memory stand-ins for the funders' space repositories (API keys, file records, counters)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime

from chalicelib.services.funders.api_keys import ApiKeyRecord


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
