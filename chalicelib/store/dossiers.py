"""Dossiers in DynamoDB: batched reads and writes for ingestion, owner lookups for the portal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib.services.formatting import paris_month
from chalicelib.services.funder_files.model import DossierStatus
from chalicelib.services.trainings.dossiers import (
    HIDDEN_HISTORY_FIELDS,
    Dossier,
    DossierChange,
    DossierVersion,
    dossier_key,
    name_birth_key,
)
from chalicelib.store.conditional_writes import put_if, refusals
from chalicelib.store.dashboard import counter_updates
from chalicelib.store.models import DossierChangeItem, DossierItem


def _optional(value: str | None) -> str | None:
    return value or None


def to_dossier(item: DossierItem) -> Dossier:
    return Dossier(
        funder_code=item.funder_code,
        dossier_number=item.dossier_number,
        family_name=item.family_name,
        given_names=item.given_names,
        birth_date=date.fromisoformat(item.birth_date),
        email=_optional(item.email),
        training_code=item.training_code,
        training_title=item.training_title,
        start_date=date.fromisoformat(item.start_date),
        end_date=date.fromisoformat(item.end_date),
        organisation_siret=item.organisation_siret,
        organisation_name=item.organisation_name,
        organisation_email=_optional(item.organisation_email),
        monthly_rate=Decimal(item.monthly_rate),
        decision_date=date.fromisoformat(item.decision_date),
        status=DossierStatus(item.status),
        account_id=_optional(item.account_id),
        activation_code_hash=_optional(item.activation_code_hash),
    )


def to_item(dossier: Dossier, source_file: str, now: datetime) -> DossierItem:
    return DossierItem(
        funder_code=dossier.funder_code,
        dossier_number=dossier.dossier_number,
        identity_key=dossier.identity_key,
        family_name=dossier.family_name,
        given_names=dossier.given_names,
        birth_date=dossier.birth_date.isoformat(),
        email=dossier.email,
        training_code=dossier.training_code,
        training_title=dossier.training_title,
        start_date=dossier.start_date.isoformat(),
        end_date=dossier.end_date.isoformat(),
        organisation_siret=dossier.organisation_siret,
        organisation_name=dossier.organisation_name,
        organisation_email=dossier.organisation_email,
        monthly_rate=str(dossier.monthly_rate),
        decision_date=dossier.decision_date.isoformat(),
        status=dossier.status.value,
        content_hash=dossier.content_hash,
        account_id=dossier.account_id,
        activation_code_hash=dossier.activation_code_hash,
        updated_at=now,
        source_file=source_file,
        end_month=dossier.end_date.strftime("%Y-%m"),
        name_birth_key=name_birth_key(dossier.funder_code, dossier.family_name, dossier.birth_date),
    )


def history_item(change: DossierChange, source_file: str, now: datetime) -> DossierChangeItem:
    return DossierChangeItem(
        dossier_key=change.dossier.key,
        change_id=change.history_id(source_file),
        recorded_at=now,
        source_file=source_file,
        line=change.line,
        created=change.created,
        received={
            name: value
            for name, value in change.dossier.content_values().items()
            if name not in HIDDEN_HISTORY_FIELDS
        },
        changes={name: {"old": old, "new": new} for name, (old, new) in change.changes.items()},
    )


def to_version(item: DossierChangeItem) -> DossierVersion:
    changes = item.changes.as_dict() if item.changes else {}
    return DossierVersion(
        recorded_at=item.recorded_at,
        source_file=item.source_file,
        line=int(item.line) if item.line is not None else None,
        created=bool(item.created),
        values=item.received.as_dict() if item.received else {},
        changes={name: (change["old"], change["new"]) for name, change in changes.items()},
    )


def _unchanged_since(read: Dossier | None) -> Condition:
    if read is None:
        return DossierItem.dossier_number.does_not_exist()
    owner = (
        DossierItem.account_id.does_not_exist()
        if read.account_id is None
        else DossierItem.account_id == read.account_id
    )
    return (DossierItem.content_hash == read.content_hash) & owner


class DynamoDossierRepository:
    def backfill_name_birth_keys(self) -> int:
        """Gives the help desk's name search (`by-name-birth`) the dossiers written before it
        existed; answers how many it keyed. An operator's one-off after deploying (`admin.py
        dossiers backfill-name-search`), so a Scan; never on a request path. Each update is
        conditional on the key still missing and the dossier still there: a dossier rewritten
        meanwhile by a funder file already carries its key, one purged meanwhile is not revived,
        and running it twice keys nothing twice."""
        keyed = 0
        for item in DossierItem.scan(DossierItem.name_birth_key.does_not_exist()):
            key = name_birth_key(
                item.funder_code, item.family_name, date.fromisoformat(item.birth_date)
            )
            try:
                item.update(
                    actions=[DossierItem.name_birth_key.set(key)],
                    condition=DossierItem.funder_code.exists()
                    & DossierItem.name_birth_key.does_not_exist(),
                )
            except UpdateError as error:
                if error.cause_response_code == "ConditionalCheckFailedException":
                    continue
                raise
            keyed += 1
        return keyed

    def get(
        self, funder_code: str, dossier_number: str, consistent: bool = False
    ) -> Dossier | None:
        """`consistent`: strongly consistent, for a read after a conditional write refused."""
        try:
            return to_dossier(
                DossierItem.get(funder_code, dossier_number, consistent_read=consistent)
            )
        except DossierItem.DoesNotExist:
            return None

    def get_many(self, funder_code: str, dossier_numbers: list[str]) -> dict[str, Dossier]:
        keys = [(funder_code, number) for number in dict.fromkeys(dossier_numbers)]
        # Strongly consistent: what ingestion reads here is the version its writes are
        # conditioned on, and a dossier just refused as changed must be seen changed.
        return {
            item.dossier_number: to_dossier(item)
            for item in DossierItem.batch_get(keys, consistent_read=True)
        }

    def write_many(
        self,
        dossiers: list[Dossier],
        changes: list[DossierChange],
        source_file: str,
        read: dict[str, Dossier],
    ) -> set[str]:
        now = datetime.now(UTC)
        # History first: if the run dies in between, the retry sees the dossier still old and
        # records the same version again under the same key, where the put-if-absent leaves the
        # first item as it was (append-only: an item is never overwritten, its date stays the
        # first delivery's). Never a dossier version without its history item.
        history = [
            (history_item(change, source_file, now), DossierChangeItem.change_id.does_not_exist())
            for change in changes
        ]
        put_if(history, DossierChangeItem.Meta.region)  # refused: already recorded
        # Each dossier is put whole, on the condition that it is still the version read, owner
        # included: a trainee who linked it in between (or a concurrent file that changed it)
        # makes that put fail, and the caller reads it again, never dropping the link.
        entries = [
            (to_item(dossier, source_file, now), _unchanged_since(read.get(dossier.dossier_number)))
            for dossier in dossiers
        ]
        changed = put_if(entries, DossierItem.Meta.region)
        return {dossiers[index].dossier_number for index in changed}

    def owner(self, funder_code: str, dossier_number: str) -> str | None:
        try:
            item = DossierItem.get(
                funder_code, dossier_number, attributes_to_get=["dossier_number", "account_id"]
            )
        except DossierItem.DoesNotExist:
            return None
        return item.account_id or None

    def link_account(self, funder_code: str, dossier_number: str, account_id: str) -> bool:
        """Links a dossier to an account unless another account already holds it. A new link
        is counted on the funder's dashboard in the same transaction; linking again to the same
        account changes (and counts) nothing."""
        try:
            with TransactWrite(connection=Connection(region=DossierItem.Meta.region)) as write:
                write.update(
                    DossierItem(funder_code=funder_code, dossier_number=dossier_number),
                    actions=[DossierItem.account_id.set(account_id)],
                    condition=DossierItem.dossier_number.exists()
                    & DossierItem.account_id.does_not_exist(),
                )
                for item, adds in counter_updates(
                    funder_code, paris_month(datetime.now(UTC)), {"linked_accounts": 1}
                ):
                    write.update(item, actions=adds)
        except TransactWriteError as error:
            if "ConditionalCheckFailed" not in refusals(error):
                raise
            return self.owner(funder_code, dossier_number) == account_id
        return True

    def list_for_account(self, account_id: str) -> list[Dossier]:
        return [to_dossier(item) for item in DossierItem.by_account.query(account_id)]

    def list_changes(self, funder_code: str, dossier_number: str) -> list[DossierChangeItem]:
        return list(DossierChangeItem.query(dossier_key(funder_code, dossier_number)))

    def history(self, funder_code: str, dossier_number: str) -> list[DossierVersion]:
        """The dossier's versions, oldest first (a dossier has a handful: one Query)."""
        versions = [to_version(item) for item in self.list_changes(funder_code, dossier_number)]
        return sorted(versions, key=lambda version: (version.recorded_at, version.line or 0))

    def find_by_name_and_birth(
        self, funder_code: str, family_name: str, birth_date: date
    ) -> list[Dossier]:
        """The funder's dossiers of exactly this family name and birth date, by the index.

        AWS: « All reads from GSIs and streams are eventually consistent » (DynamoDB read
        consistency): a dossier received a second ago may be missing here, never in the number
        look-up, which reads the table. The items are then read from the table (KEYS_ONLY index).
        """
        key = name_birth_key(funder_code, family_name, birth_date)
        numbers = [
            (item.funder_code, item.dossier_number)
            for item in DossierItem.by_name_birth.query(key)
            if item.funder_code == funder_code  # the key holds it; kept as a second lock
        ]
        if not numbers:
            return []
        return sorted(
            (to_dossier(item) for item in DossierItem.batch_get(numbers)),
            key=lambda dossier: dossier.dossier_number,
        )
