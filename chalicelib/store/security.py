"""Challenges, counters and the audit trail in DynamoDB, each item expiring by TTL."""

from __future__ import annotations

import contextlib
import secrets
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from chalicelib.services.security.challenges import Challenge, Purpose
from chalicelib.services.security.throttling import TryCount
from chalicelib.store.models import AuditItem, ChallengeItem, CounterItem

AUDIT_RETENTION = timedelta(days=365)
UNATTRIBUTED_PREFIX = "sans-compte#"


class DynamoChallengeRepository:
    def create(self, challenge: Challenge) -> None:
        ChallengeItem(
            challenge_id=challenge.challenge_id,
            purpose=challenge.purpose.value,
            answer_hash=challenge.answer_hash,
            tries=challenge.tries,
            subject=challenge.subject,
            data=challenge.data or None,
            expires_at=challenge.expires_at,
        ).save()

    def get(self, challenge_id: str) -> Challenge | None:
        try:
            item = ChallengeItem.get(
                challenge_id,
                attributes_to_get=[
                    "challenge_id",
                    "purpose",
                    "answer_hash",
                    "tries",
                    "subject",
                    "data",
                    "expires_at",
                ],
            )
        except DoesNotExist:
            return None
        return Challenge(
            challenge_id=item.challenge_id,
            purpose=Purpose(item.purpose),
            answer_hash=item.answer_hash,
            expires_at=item.expires_at,
            tries=int(item.tries or 0),
            subject=item.subject,
            data=item.data.as_dict() if item.data else {},
        )

    def claim_try(self, challenge_id: str, max_tries: int) -> int | None:
        """One try counted, if fewer than `max_tries` were: the update is atomic (UpdateItem on
        one item), so concurrent tries each get their own number and the extra ones fail."""
        item = ChallengeItem(challenge_id=challenge_id)
        try:
            item.update(
                actions=[ChallengeItem.tries.add(1)],
                condition=ChallengeItem.challenge_id.exists()
                & (ChallengeItem.tries.does_not_exist() | (ChallengeItem.tries < max_tries)),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        return int(item.tries)

    def consume(self, challenge_id: str) -> bool:
        try:
            ChallengeItem(challenge_id=challenge_id).delete(
                condition=ChallengeItem.challenge_id.exists()
            )
        except DeleteError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def delete(self, challenge_id: str) -> None:
        ChallengeItem(challenge_id=challenge_id).delete()

    def arm(self, challenge_id: str, answer_hash: str, subject: str) -> bool:
        """Gives an issued challenge its answer and subject, once: False if it is gone or was
        armed already (a queue delivers a message at least once)."""
        try:
            ChallengeItem(challenge_id=challenge_id).update(
                actions=[
                    ChallengeItem.answer_hash.set(answer_hash),
                    ChallengeItem.subject.set(subject),
                ],
                condition=ChallengeItem.challenge_id.exists()
                & ChallengeItem.subject.does_not_exist(),
            )
        except UpdateError:
            return False
        return True

    def disarm(self, challenge_id: str) -> None:
        """Undoes `arm` when its mail could not be sent, so that the retry can arm it again."""
        # Gone already (expired): nothing to undo.
        with contextlib.suppress(UpdateError):
            ChallengeItem(challenge_id=challenge_id).update(
                actions=[ChallengeItem.answer_hash.set(""), ChallengeItem.subject.remove()],
                condition=ChallengeItem.challenge_id.exists(),
            )


class DynamoCounterRepository:
    def increment(self, key: str, expires_at: datetime) -> int:
        item = CounterItem(counter_key=key)
        item.update(actions=[CounterItem.count.add(1), CounterItem.expires_at.set(expires_at)])
        return int(item.count)

    def locked_until(self, key: str) -> datetime | None:
        try:
            return CounterItem.get(key).locked_until
        except DoesNotExist:
            return None

    def lock(self, key: str, until: datetime, expires_at: datetime) -> None:
        CounterItem(counter_key=key).update(
            actions=[CounterItem.locked_until.set(until), CounterItem.expires_at.set(expires_at)]
        )

    def read_tries(self, key: str) -> TryCount:
        # Strongly consistent: the count read is the one the conditional write compares.
        try:
            item = CounterItem.get(key, consistent_read=True)
        except DoesNotExist:
            return TryCount()
        return TryCount(int(item.count or 0), item.locked_until, item.expires_at)

    def write_tries(
        self, key: str, seen: int, count: int, locked_until: datetime | None, expires_at: datetime
    ) -> bool:
        """Sets the count to `count` only if it is still `seen` (optimistic locking): False when
        another writer got there first."""
        unchanged = (
            CounterItem.count.does_not_exist() | (CounterItem.count == 0)
            if seen == 0
            else CounterItem.count == seen
        )
        lock_action = (
            CounterItem.locked_until.set(locked_until)
            if locked_until is not None
            else CounterItem.locked_until.remove()
        )
        try:
            CounterItem(counter_key=key).update(
                actions=[
                    CounterItem.count.set(count),
                    lock_action,
                    CounterItem.expires_at.set(expires_at),
                ],
                condition=unchanged,
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def take_turn(
        self, key: str, seen: datetime | None, until: datetime, expires_at: datetime
    ) -> bool:
        """Sets the lock to `until` only if it is still the one that was `seen` (a compare and
        set): of concurrent attempts that saw the same lock, one wins the turn."""
        condition = (
            CounterItem.locked_until.does_not_exist()
            if seen is None
            else CounterItem.locked_until == seen
        )
        try:
            CounterItem(counter_key=key).update(
                actions=[
                    CounterItem.locked_until.set(until),
                    CounterItem.expires_at.set(expires_at),
                ],
                condition=condition,
            )
        except UpdateError:
            return False
        return True

    def delete(self, key: str) -> None:
        CounterItem(counter_key=key).delete()


class DynamoAuditLog:
    def record_unattributed(
        self, event: str, subject: str | None = None, client_ip: str | None = None
    ) -> None:
        """Filed under a partition no account id can take (account ids are hex): written like an
        account's event, so an unknown address costs the same request as a known one."""
        if subject is not None:
            self.record(f"{UNATTRIBUTED_PREFIX}{subject}", event, client_ip)

    def record(
        self,
        account_id: str,
        event: str,
        client_ip: str | None,
        details: dict[str, str] | None = None,
    ) -> None:
        now = datetime.now(UTC)
        AuditItem(
            account_id=account_id,
            event_key=f"{now.isoformat()}#{secrets.token_hex(4)}",
            event=event,
            occurred_at=now,
            client_ip=client_ip,
            details=details or None,
            expires_at=now + AUDIT_RETENTION,
        ).save()

    def events(self, account_id: str, limit: int = 200) -> list[AuditItem]:
        return list(AuditItem.query(account_id, scan_index_forward=False, limit=limit))

    def events_of(self, account_id: str) -> list[dict[str, object]]:
        """Every event of the account, oldest first, as plain values (for « Mes données »)."""
        return [
            {
                "evenement": item.event,
                "date": item.occurred_at.isoformat(),
                "adresse_ip": item.client_ip,
                "details": item.details.as_dict() if item.details else {},
            }
            for item in AuditItem.query(account_id)
        ]
