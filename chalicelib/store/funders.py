"""Funders' settings: the only per-funder configuration the portal has."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.services.funders.model import DEFAULT_RETENTION_YEARS, Funder
from chalicelib.store.models import FunderItem


def _to_funder(item: FunderItem) -> Funder:
    return Funder(
        code=item.funder_code,
        name=item.name,
        franceconnect_enabled=bool(item.franceconnect_enabled),
        messages_enabled=bool(item.messages_enabled),
        retention_years=int(item.retention_years or DEFAULT_RETENTION_YEARS),
    )


class DynamoFunderRepository:
    def get(self, code: str) -> Funder | None:
        try:
            return _to_funder(FunderItem.get("funder", code))
        except DoesNotExist:
            return None

    def list(self) -> list[Funder]:
        return [_to_funder(item) for item in FunderItem.query("funder")]

    def save(self, funder: Funder) -> None:
        FunderItem(
            kind="funder",
            funder_code=funder.code,
            name=funder.name,
            franceconnect_enabled=funder.franceconnect_enabled,
            messages_enabled=funder.messages_enabled,
            retention_years=funder.retention_years,
            updated_at=datetime.now(UTC),
        ).save()

    def purged_through(self, code: str) -> str | None:
        try:
            return FunderItem.get("funder", code, consistent_read=True).purged_through
        except DoesNotExist:
            return None

    def mark_purged_through(self, code: str, month: str, previous: str | None) -> bool:
        """Moves the purge's mark forward, unless another run moved it meanwhile."""
        same = (
            FunderItem.purged_through.does_not_exist()
            if previous is None
            else FunderItem.purged_through == previous
        )
        try:
            FunderItem(kind="funder", funder_code=code).update(
                actions=[FunderItem.purged_through.set(month)],
                condition=FunderItem.funder_code.exists() & same,
            )
        except UpdateError:
            return False
        return True
