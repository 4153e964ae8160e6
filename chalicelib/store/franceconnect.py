"""FranceConnect in DynamoDB: which account a `sub` belongs to, and the dossiers of an identity.

A `sub` is claimed like a mail address is (store/accounts.py): an item "franceconnect#<sub>" of
the accounts table naming its owner, written with a condition. Looking an account up by `sub`
is then one GetItem, with no new index; the claim is written before the account points to it,
so two first logins of one person at once cannot create two accounts.
"""

from __future__ import annotations

from contextlib import suppress

from pynamodb.exceptions import DeleteError, DoesNotExist, PutError

from chalicelib.services.trainings.dossiers import Dossier
from chalicelib.store.dossiers import DynamoDossierRepository, to_dossier
from chalicelib.store.models import DossierItem, EmailClaimItem


def claim_key(sub: str) -> str:
    return f"franceconnect#{sub}"


class DynamoFranceConnectLinks:
    def owner(self, sub: str) -> str | None:
        try:
            return EmailClaimItem.get(claim_key(sub), consistent_read=True).owner_id
        except DoesNotExist:
            return None

    def claim(self, sub: str, account_id: str) -> bool:
        """Claims the `sub` for this account, unless another account holds it."""
        try:
            EmailClaimItem(account_id=claim_key(sub), owner_id=account_id).save(
                condition=EmailClaimItem.account_id.does_not_exist()
                | (EmailClaimItem.owner_id == account_id)
            )
        except PutError:
            return False
        return True

    def release(self, sub: str, account_id: str) -> None:
        """Frees the `sub`, only if this account still holds it."""
        # Already freed, or claimed since by someone else: theirs to keep.
        with suppress(DeleteError):
            EmailClaimItem(account_id=claim_key(sub)).delete(
                condition=EmailClaimItem.owner_id == account_id
            )


class DynamoIdentityDossiers(DynamoDossierRepository):
    def find_by_identity(self, identity_key: str, limit: int) -> list[Dossier]:
        """One person's dossiers, by the identity pivot (index by-identity), at most `limit`."""
        return [
            to_dossier(item) for item in DossierItem.by_identity.query(identity_key, limit=limit)
        ]
