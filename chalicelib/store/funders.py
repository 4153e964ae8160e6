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
        franceconnect_allowed=bool(item.franceconnect_enabled)
        if item.franceconnect_allowed is None
        else bool(item.franceconnect_allowed),
        home_text=item.home_text or "",
        settings_version=int(item.settings_version or 0),
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
        """The operator's settings, in one UpdateItem (which creates the item if need be): what
        the funder chose itself (home text) and the purge's mark are left as they are."""
        FunderItem(kind="funder", funder_code=funder.code).update(
            actions=[
                FunderItem.name.set(funder.name),
                FunderItem.franceconnect_enabled.set(funder.franceconnect_enabled),
                FunderItem.franceconnect_allowed.set(funder.franceconnect_allowed),
                FunderItem.messages_enabled.set(funder.messages_enabled),
                FunderItem.retention_years.set(funder.retention_years),
                FunderItem.updated_at.set(datetime.now(UTC)),
                # A « Paramètres » form read before this change must not undo it.
                FunderItem.settings_version.add(1),
            ]
        )

    def update_space_settings(
        self,
        code: str,
        *,
        messages_enabled: bool | None = None,
        franceconnect_enabled: bool | None = None,
        home_text: str | None = None,
        expected_version: int | None = None,
    ) -> bool:
        """The funder's own settings, only those given, in one conditional UpdateItem: turning
        FranceConnect on needs the operator's permission at the time of the write, and with
        `expected_version` the settings must still be at that version (two members saving at
        the same instant: the second one's write fails, instead of silently undoing the first
        one's). Every write moves the version on."""
        actions = [
            FunderItem.updated_at.set(datetime.now(UTC)),
            FunderItem.settings_version.add(1),
        ]
        condition = FunderItem.funder_code.exists()
        if expected_version is not None:
            condition &= (
                FunderItem.settings_version == expected_version
                if expected_version
                else FunderItem.settings_version.does_not_exist()
                | (FunderItem.settings_version == 0)
            )
        if messages_enabled is not None:
            actions.append(FunderItem.messages_enabled.set(messages_enabled))
        if franceconnect_enabled is not None:
            actions.append(FunderItem.franceconnect_enabled.set(franceconnect_enabled))
            if franceconnect_enabled:
                condition &= (FunderItem.franceconnect_allowed == True) | (  # noqa: E712
                    FunderItem.franceconnect_allowed.does_not_exist()
                    & (FunderItem.franceconnect_enabled == True)  # noqa: E712
                )
        if home_text is not None:
            actions.append(
                FunderItem.home_text.set(home_text) if home_text else FunderItem.home_text.remove()
            )
        try:
            FunderItem(kind="funder", funder_code=code).update(actions=actions, condition=condition)
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

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
