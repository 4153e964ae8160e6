"""Funders' API keys, in the funders table under the partition "api-key" (sort key: the key id)."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.services.funders.api_keys import ApiKeyRecord
from chalicelib.store.models import FunderTableItem

PARTITION = "api-key"


def _record(item: FunderTableItem) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=item.sk,
        funder_code=item.funder or "",
        secret_hash=item.secret_hash or "",
        created_at=item.created_at,  # type: ignore[arg-type]  # always written
        revoked_at=item.revoked_at,
    )


class DynamoApiKeyRepository:
    def create(self, record: ApiKeyRecord) -> bool:
        try:
            FunderTableItem(
                pk=PARTITION,
                sk=record.key_id,
                funder=record.funder_code,
                secret_hash=record.secret_hash,
                created_at=record.created_at,
            ).save(condition=FunderTableItem.sk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, key_id: str) -> ApiKeyRecord | None:
        try:
            # Strongly consistent: a key revoked a second ago is refused now.
            return _record(FunderTableItem.get(PARTITION, key_id, consistent_read=True))
        except DoesNotExist:
            return None

    def of_funder(self, funder_code: str) -> list[ApiKeyRecord]:
        # The operator's listing: a handful of keys per funder, all in one partition.
        return [
            _record(item)
            for item in FunderTableItem.query(
                PARTITION, filter_condition=FunderTableItem.funder == funder_code
            )
        ]

    def revoke(self, key_id: str, funder_code: str, when: datetime) -> bool:
        try:
            FunderTableItem(pk=PARTITION, sk=key_id).update(
                actions=[FunderTableItem.revoked_at.set(when)],
                condition=(FunderTableItem.funder == funder_code)
                & FunderTableItem.revoked_at.does_not_exist(),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True
