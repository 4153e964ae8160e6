"""CGU versions, the pointer to the current one, and acceptances (one item each)."""

from __future__ import annotations

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist
from pynamodb.transactions import TransactWrite

from chalicelib.services.accounts.terms import Acceptance, TermsVersion
from chalicelib.store.models import TermsItem

TERMS = "terms"
CURRENT = "current"


def _version_key(version: str) -> str:
    return f"version#{version}"


def _to_terms(item: TermsItem) -> TermsVersion:
    return TermsVersion(version=item.version, text=item.text or "", published_at=item.published_at)


class DynamoTermsRepository:
    def current_version(self) -> str | None:
        try:
            return TermsItem.get(TERMS, CURRENT).version
        except DoesNotExist:
            return None

    def current(self) -> TermsVersion | None:
        version = self.current_version()
        return self.get(version) if version else None

    def get(self, version: str) -> TermsVersion | None:
        try:
            return _to_terms(TermsItem.get(TERMS, _version_key(version)))
        except DoesNotExist:
            return None

    def publish(self, terms: TermsVersion) -> None:
        with TransactWrite(connection=Connection(region=TermsItem.Meta.region)) as transaction:
            transaction.save(
                TermsItem(
                    pk=TERMS,
                    sk=_version_key(terms.version),
                    version=terms.version,
                    text=terms.text,
                    published_at=terms.published_at,
                ),
                condition=TermsItem.sk.does_not_exist(),
            )
            transaction.save(
                TermsItem(
                    pk=TERMS, sk=CURRENT, version=terms.version, published_at=terms.published_at
                )
            )

    def record_acceptance(self, acceptance: Acceptance) -> None:
        TermsItem(
            pk=f"acceptance#{acceptance.account_id}",
            sk=f"{acceptance.version}#{acceptance.accepted_at.isoformat()}",
            version=acceptance.version,
            accepted_at=acceptance.accepted_at,
        ).save()

    def acceptances(self, account_id: str) -> list[Acceptance]:
        return [
            Acceptance(account_id=account_id, version=item.version, accepted_at=item.accepted_at)
            for item in TermsItem.query(f"acceptance#{account_id}")
        ]
