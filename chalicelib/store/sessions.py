"""Sessions in DynamoDB: the item expires by TTL at the session's latest possible end."""

from __future__ import annotations

import time
from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.services.accounts.model import AccountKind, Step
from chalicelib.services.accounts.sessions import ABSOLUTE_TIMEOUT, Session
from chalicelib.services.messages.unread import UnreadSnapshot
from chalicelib.store.models import SessionItem, TermsItem
from chalicelib.store.terms import CURRENT, TERMS

# BatchGetItem may answer part of the keys and return the rest as UnprocessedKeys, even without
# an error (throttling, an internal failure): those are read again, a few times at most. AWS,
# BatchGetItem: « If DynamoDB returns any unprocessed items, you should retry the batch
# operation on those items. However, we strongly recommend that you use an exponential backoff
# algorithm. » (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/
# API_BatchGetItem.html); pinned by tests/integration/test_session_batch_read.py.
BATCH_GET_ATTEMPTS = 3
BATCH_GET_BACKOFF_SECONDS = 0.05


class BatchReadIncomplete(RuntimeError):
    """DynamoDB still left keys unread after the retries (the composition root makes the page
    answer « service indisponible, réessayez », 503, as for a throttled call)."""


def to_unread(item: SessionItem) -> UnreadSnapshot:
    counts = item.unread_counts.as_dict() if item.unread_counts is not None else {}
    return UnreadSnapshot(
        owner=item.messages_owner,
        counts={str(funder): int(count) for funder, count in counts.items()},
        version=int(item.unread_version or 0),
    )


def to_session(item: SessionItem) -> Session:
    return Session(
        token_hash=item.token_hash,
        account_id=item.account_id,
        kind=AccountKind(item.kind),
        method=item.method,
        created_at=item.created_at,
        last_used_at=item.last_used_at,
        csrf_token=item.csrf_token,
        pending_step=Step(item.pending_step) if item.pending_step else None,
        terms_version=item.terms_version,
        id_token=item.id_token,
        unread=to_unread(item),
    )


class DynamoSessionRepository:
    def create(self, session: Session) -> None:
        SessionItem(
            token_hash=session.token_hash,
            account_id=session.account_id,
            kind=session.kind.value,
            method=session.method,
            created_at=session.created_at,
            last_used_at=session.last_used_at,
            csrf_token=session.csrf_token,
            pending_step=session.pending_step.value if session.pending_step else None,
            terms_version=session.terms_version,
            id_token=session.id_token,
            expires_at=session.created_at + ABSOLUTE_TIMEOUT,
            messages_owner=session.unread.owner,
            unread_counts=dict(session.unread.counts),
            unread_version=session.unread.version,
        ).save()

    def get(self, token_hash: str) -> Session | None:
        try:
            return to_session(SessionItem.get(token_hash))
        except DoesNotExist:
            return None

    def get_with_current_terms(self, token_hash: str) -> tuple[Session | None, str | None]:
        """The session and the pointer to the current CGU version, two tables in one
        BatchGetItem (instead of two GetItem) on a signed-in page's first request."""
        sessions, terms = SessionItem.Meta.table_name, TermsItem.Meta.table_name
        request: dict[str, Any] = {
            sessions: {"Keys": [{"token_hash": {"S": token_hash}}]},
            terms: {"Keys": [{"pk": {"S": TERMS}, "sk": {"S": CURRENT}}]},
        }
        found: dict[str, list[dict[str, Any]]] = {sessions: [], terms: []}
        connection = SessionItem._get_connection().connection
        for attempt in range(BATCH_GET_ATTEMPTS):
            answer = connection._make_api_call("BatchGetItem", {"RequestItems": request})
            for table, items in answer.get("Responses", {}).items():
                found[table].extend(items)
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(BATCH_GET_BACKOFF_SECONDS * 2**attempt)  # AWS: retry with backoff
        else:
            raise BatchReadIncomplete("BatchGetItem left keys unread after retries")
        session = (
            to_session(SessionItem.from_raw_data(found[sessions][0])) if found[sessions] else None
        )
        version = TermsItem.from_raw_data(found[terms][0]).version if found[terms] else None
        return session, version

    def touch(self, session: Session) -> None:
        SessionItem(token_hash=session.token_hash).update(
            actions=[SessionItem.last_used_at.set(session.last_used_at)],
            condition=SessionItem.token_hash.exists(),
        )

    def save_progress(self, session: Session) -> None:
        SessionItem(token_hash=session.token_hash).update(
            actions=[
                SessionItem.pending_step.set(
                    session.pending_step.value if session.pending_step else None
                ),
                SessionItem.terms_version.set(session.terms_version),
            ],
            condition=SessionItem.token_hash.exists(),
        )

    def delete(self, token_hash: str) -> None:
        SessionItem(token_hash=token_hash).delete()

    def delete_for_account(self, account_id: str, keep: str | None = None) -> int:
        ended = 0
        with SessionItem.batch_write() as batch:
            for item in SessionItem.by_account.query(account_id):
                if item.token_hash != keep:
                    batch.delete(SessionItem(token_hash=item.token_hash))
                    ended += 1
        return ended

    def publish_unread(self, account_id: str, snapshot: UnreadSnapshot) -> int:
        """Puts `snapshot` on every open session of the account that holds an older one; returns
        how many took it. A session ended meanwhile, or already newer, is left alone."""
        updated = 0
        for key in SessionItem.by_account.query(account_id):
            try:
                SessionItem(token_hash=key.token_hash).update(
                    actions=[
                        SessionItem.unread_counts.set(dict(snapshot.counts)),
                        SessionItem.unread_version.set(snapshot.version),
                    ],
                    condition=SessionItem.token_hash.exists()
                    & (SessionItem.messages_owner == snapshot.owner)
                    & (
                        SessionItem.unread_version.does_not_exist()
                        | (SessionItem.unread_version < snapshot.version)
                    ),
                )
                updated += 1
            except UpdateError:
                continue
        return updated
