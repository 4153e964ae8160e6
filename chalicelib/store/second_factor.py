"""The TOTP second factor of an account (services/accounts/totp.py): every change is one
conditional write, so that concurrent requests cannot use a time step or a recovery code twice."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.services.accounts.totp import SecondFactor
from chalicelib.store.models import SecondFactorItem


def key(account_id: str) -> str:
    return f"second-factor#{account_id}"


def _refused(error: UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


class DynamoSecondFactorRepository:
    def get(self, account_id: str) -> SecondFactor | None:
        try:
            # Strongly consistent: a code just used, or a secret just confirmed, is seen at once.
            item = SecondFactorItem.get(key(account_id), consistent_read=True)
        except DoesNotExist:
            return None
        return SecondFactor(
            pending_secret=item.pending_secret,
            secret=item.secret,
            last_step=int(item.last_step) if item.last_step is not None else None,
            recovery_codes_left=len(item.recovery_codes or ()),
        )

    def set_pending(self, account_id: str, secret: str) -> bool:
        try:
            SecondFactorItem(account_id=key(account_id)).update(
                actions=[SecondFactorItem.pending_secret.set(secret)],
                condition=SecondFactorItem.secret.does_not_exist(),
            )
        except UpdateError as error:
            if _refused(error):
                return False
            raise
        return True

    def confirm(
        self, account_id: str, pending_secret: str, step: int, code_hashes: list[str], at: datetime
    ) -> bool:
        try:
            SecondFactorItem(account_id=key(account_id)).update(
                actions=[
                    SecondFactorItem.secret.set(pending_secret),
                    SecondFactorItem.pending_secret.remove(),
                    SecondFactorItem.last_step.set(step),
                    SecondFactorItem.recovery_codes.set(set(code_hashes)),
                    SecondFactorItem.enabled_at.set(at),
                ],
                condition=(SecondFactorItem.pending_secret == pending_secret)
                & SecondFactorItem.secret.does_not_exist(),
            )
        except UpdateError as error:
            if _refused(error):
                return False
            raise
        return True

    def use_step(self, account_id: str, step: int) -> bool:
        try:
            SecondFactorItem(account_id=key(account_id)).update(
                actions=[SecondFactorItem.last_step.set(step)],
                condition=SecondFactorItem.secret.exists()
                & (
                    SecondFactorItem.last_step.does_not_exist()
                    | (SecondFactorItem.last_step < step)
                ),
            )
        except UpdateError as error:
            if _refused(error):
                return False
            raise
        return True

    def use_recovery_code(self, account_id: str, code_hash: str) -> bool:
        try:
            SecondFactorItem(account_id=key(account_id)).update(
                actions=[SecondFactorItem.recovery_codes.delete({code_hash})],
                condition=SecondFactorItem.recovery_codes.contains(code_hash),
            )
        except UpdateError as error:
            if _refused(error):
                return False
            raise
        return True

    def delete(self, account_id: str) -> None:
        SecondFactorItem(account_id=key(account_id)).delete()
