"""Funders' settings: the only per-funder configuration the portal has."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist

from chalicelib.services.funders import Funder
from chalicelib.store.models import FunderItem


def _to_funder(item: FunderItem) -> Funder:
    return Funder(
        code=item.funder_code,
        name=item.name,
        franceconnect_enabled=bool(item.franceconnect_enabled),
        messages_enabled=bool(item.messages_enabled),
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
            updated_at=datetime.now(UTC),
        ).save()
