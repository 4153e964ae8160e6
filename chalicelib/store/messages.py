"""« Mes messages » in DynamoDB (the layout is described above the models in models.py).

Every change that moves an unread count is one transaction: the message, the thread's summary
and the owner's counter (and, when reading, the reader's session) change together or not at all,
so the counters never drift from the threads.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.services.messages.threads import (
    MAX_MESSAGES_PER_THREAD,
    DossierLeft,
    Message,
    MessageMetadata,
    OwnerState,
    Side,
    Thread,
    ThreadPage,
    stamp,
)
from chalicelib.services.messages.unread import UnreadSnapshot, organisation_owner
from chalicelib.store.conditional_writes import CONFLICT_ATTEMPTS, refusals
from chalicelib.store.models import (
    DossierItem,
    MessageItem,
    MessagesTableItem,
    SessionItem,
    StaffMemberItem,
    SubmissionItem,
    ThreadItem,
    UnreadCounterItem,
)

SUMMARY_KEY = "thread"
COUNTER_PREFIX = "unread#"
STAFF_PREFIX = "staff#"


def _parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def to_thread(item: ThreadItem) -> Thread:
    return Thread(
        thread_id=item.thread_id,
        account_id=item.account_id,
        organisation_siret=item.organisation_siret,
        organisation_name=item.organisation_name,
        funder_code=item.funder_code,
        dossier_number=item.dossier_number,
        training_title=item.training_title,
        trainee_name=item.trainee_name,
        subject=item.subject,
        created_at=item.created_at,
        updated_at=_parse_stamp(item.updated_at),
        message_count=int(item.message_count or 0),
        unread_for_trainee=int(item.unread_for_trainee or 0),
        unread_for_organisation=int(item.unread_for_organisation or 0),
        last_side=Side(item.last_side),
    )


def to_message(item: MessageItem) -> Message:
    return Message(
        thread_id=item.thread_id,
        key=item.message_key,
        side=Side(item.side),
        author_account_id=item.author_account_id,
        text=item.text,
        sent_at=item.sent_at,
    )


def _message_item(message: Message) -> MessageItem:
    return MessageItem(
        thread_id=message.thread_id,
        message_key=message.key,
        side=message.side.value,
        author_account_id=message.author_account_id,
        text=message.text,
        sent_at=message.sent_at,
    )


SUBMISSION_KEY = "submission"


def _mark_submission(
    transaction: TransactWrite, submission: str | None, thread_id: str, sent_at: datetime
) -> None:
    """A retried submission (same form, same Idempotency-Key) finds its mark and writes nothing:
    the mark is written in the same transaction as the message, on condition it is new."""
    if submission is None:
        return
    transaction.save(
        SubmissionItem(
            thread_id=submission,
            message_key=SUBMISSION_KEY,
            written_thread_id=thread_id,
            sent_at=sent_at,
        ),
        condition=SubmissionItem.thread_id.does_not_exist(),
    )


def _counter(owner: str, funder_code: str) -> UnreadCounterItem:
    return UnreadCounterItem(thread_id=owner, message_key=f"{COUNTER_PREFIX}{funder_code}")


def _unread_attribute(side: Side) -> NumberAttribute:
    return (
        ThreadItem.unread_for_trainee
        if side is Side.TRAINEE
        else ThreadItem.unread_for_organisation
    )


def _counter_actions(change: int) -> list[object]:
    # The discriminator is set too: the first change creates the counter item.
    return [
        UnreadCounterItem.item_type.set(UnreadCounterItem),
        UnreadCounterItem.count.add(change),
        UnreadCounterItem.version.add(1),
    ]


def encode_cursor(last_key: dict[str, dict[str, str]] | None) -> str | None:
    if not last_key:
        return None
    pair = [last_key["updated_at"]["S"], last_key["thread_id"]["S"]]
    return base64.urlsafe_b64encode(json.dumps(pair).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, index_hash: str, owner: str) -> dict[str, dict[str, str]]:
    """The index position a cursor names, for this owner only (the owner is never read from
    the cursor); an unreadable cursor starts from the beginning."""
    if not cursor or len(cursor) > 200:
        return {}
    try:
        updated_at, thread_id = json.loads(
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        )
    except (ValueError, binascii.Error, TypeError):
        return {}
    if not isinstance(updated_at, str) or not isinstance(thread_id, str):
        return {}
    return {
        "thread_id": {"S": thread_id},
        "message_key": {"S": SUMMARY_KEY},
        index_hash: {"S": owner},
        "updated_at": {"S": updated_at},
    }


class DynamoMessageRepository:
    def _transaction(self) -> TransactWrite:
        return TransactWrite(connection=Connection(region=MessagesTableItem.Meta.region))

    def create_thread(
        self,
        thread: Thread,
        message: Message,
        recipient_owner: str,
        submission: str | None = None,
    ) -> bool:
        try:
            with self._transaction() as transaction:
                # First item, read back by its index below: the dossier is still the sender's.
                # A removal deletes the dossier, then its owner's threads on it once more: no
                # thread can start behind it (store/erasure.py).
                transaction.condition_check(
                    DossierItem,
                    thread.funder_code,
                    thread.dossier_number,
                    condition=DossierItem.account_id == thread.account_id,
                )
                transaction.save(
                    ThreadItem(
                        thread_id=thread.thread_id,
                        message_key=SUMMARY_KEY,
                        account_id=thread.account_id,
                        organisation_siret=thread.organisation_siret,
                        organisation_name=thread.organisation_name,
                        funder_code=thread.funder_code,
                        dossier_number=thread.dossier_number,
                        training_title=thread.training_title,
                        trainee_name=thread.trainee_name,
                        subject=thread.subject,
                        created_at=thread.created_at,
                        updated_at=stamp(thread.updated_at),
                        message_count=thread.message_count,
                        unread_for_trainee=thread.unread_for_trainee,
                        unread_for_organisation=thread.unread_for_organisation,
                        last_side=thread.last_side.value,
                    ),
                    condition=ThreadItem.thread_id.does_not_exist(),
                )
                transaction.save(_message_item(message))
                transaction.update(
                    _counter(recipient_owner, thread.funder_code), actions=_counter_actions(1)
                )
                _mark_submission(transaction, submission, thread.thread_id, message.sent_at)
        except TransactWriteError as error:
            reasons = refusals(error)
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise DossierLeft(thread.dossier_number) from None
            # Refused by a condition, with a submission: that submission was written already.
            if submission is None or "ConditionalCheckFailed" not in reasons:
                raise
            return False
        return True

    def add_message(
        self,
        thread: Thread,
        message: Message,
        recipient_owner: str,
        submission: str | None = None,
    ) -> bool:
        """False when the thread is full (or gone) or the `submission` was written already; a
        transaction that met a concurrent one on the thread (the other side replying at the same
        instant) is simply sent again."""
        attempts = 0
        while True:
            try:
                self._add_message(thread, message, recipient_owner, submission)
                return True
            except TransactWriteError as error:
                reasons = refusals(error)
                if "ConditionalCheckFailed" in reasons:
                    return False
                attempts += 1
                if "TransactionConflict" not in reasons or attempts >= CONFLICT_ATTEMPTS:
                    raise  # throttled or failing: an error page, not « conversation full »
                time.sleep(0.02 * 2**attempts)

    def _add_message(
        self, thread: Thread, message: Message, recipient_owner: str, submission: str | None
    ) -> None:
        with self._transaction() as transaction:
            transaction.save(_message_item(message))
            transaction.update(
                ThreadItem(thread_id=thread.thread_id, message_key=SUMMARY_KEY),
                actions=[
                    ThreadItem.updated_at.set(stamp(message.sent_at)),
                    ThreadItem.message_count.add(1),
                    _unread_attribute(message.side.other).add(1),
                    ThreadItem.last_side.set(message.side.value),
                ],
                condition=ThreadItem.thread_id.exists()
                & (ThreadItem.message_count < MAX_MESSAGES_PER_THREAD),
            )
            transaction.update(
                _counter(recipient_owner, thread.funder_code), actions=_counter_actions(1)
            )
            _mark_submission(transaction, submission, thread.thread_id, message.sent_at)

    def submitted(self, submission: str) -> str | None:
        try:
            item = SubmissionItem.get(submission, SUBMISSION_KEY, consistent_read=True)
        except DoesNotExist:
            return None
        return item.written_thread_id

    def mark_read(
        self, thread: Thread, side: Side, owner: str, token_hash: str, snapshot: UnreadSnapshot
    ) -> bool:
        unread = thread.unread_for(side)
        attribute = _unread_attribute(side)
        try:
            with self._transaction() as transaction:
                transaction.update(
                    ThreadItem(thread_id=thread.thread_id, message_key=SUMMARY_KEY),
                    actions=[attribute.set(0)],
                    condition=attribute == unread,
                )
                transaction.update(
                    _counter(owner, thread.funder_code), actions=_counter_actions(-unread)
                )
                transaction.update(
                    SessionItem(token_hash=token_hash),
                    actions=[
                        SessionItem.unread_counts.set(dict(snapshot.counts)),
                        SessionItem.unread_version.set(snapshot.version),
                    ],
                    condition=SessionItem.token_hash.exists(),
                )
        except TransactWriteError:
            return False
        return True

    def thread_with_messages(self, thread_id: str) -> tuple[Thread, list[Message]] | None:
        """The summary and every message in one Query (messages sort before "thread")."""
        thread: Thread | None = None
        messages: list[Message] = []
        for item in MessagesTableItem.query(thread_id):
            if isinstance(item, ThreadItem):
                thread = to_thread(item)
            elif isinstance(item, MessageItem):
                messages.append(to_message(item))
        return (thread, messages) if thread is not None else None

    def threads_of_account(self, account_id: str, limit: int, cursor: str | None) -> ThreadPage:
        start = decode_cursor(cursor, "account_id", account_id) or None
        results = ThreadItem.by_account.query(
            account_id,
            scan_index_forward=False,
            limit=limit,
            page_size=limit,
            last_evaluated_key=start,
        )
        threads = [to_thread(item) for item in results]
        return ThreadPage(threads, encode_cursor(results.last_evaluated_key))

    def threads_of_organisation(self, siret: str, limit: int, cursor: str | None) -> ThreadPage:
        start = decode_cursor(cursor, "organisation_siret", siret) or None
        results = ThreadItem.by_organisation.query(
            siret, scan_index_forward=False, limit=limit, page_size=limit, last_evaluated_key=start
        )
        threads = [to_thread(item) for item in results]
        return ThreadPage(threads, encode_cursor(results.last_evaluated_key))

    def owner_state(self, owner: str) -> OwnerState:
        """Counters and staff of an owner: one strongly consistent Query of its partition, so the
        snapshot includes the change just written."""
        counts: dict[str, int] = {}
        version = 0
        staff: list[str] = []
        for item in MessagesTableItem.query(owner, consistent_read=True):
            if isinstance(item, UnreadCounterItem):
                counts[item.message_key.removeprefix(COUNTER_PREFIX)] = max(0, int(item.count or 0))
                version += int(item.version or 0)
            elif isinstance(item, StaffMemberItem):
                staff.append(item.staff_account_id)
        return OwnerState(UnreadSnapshot(owner, counts, version), staff)

    def add_staff_member(self, siret: str, account_id: str, email: str, at: datetime) -> None:
        StaffMemberItem(
            thread_id=organisation_owner(siret),
            message_key=f"{STAFF_PREFIX}{account_id}",
            staff_account_id=account_id,
            email=email,
            added_at=at,
        ).save()

    def staff_members(self, siret: str) -> list[tuple[str, str, datetime]]:
        """(account id, mail address, added at) of the organisation's staff, for operators."""
        items = StaffMemberItem.query(
            organisation_owner(siret), StaffMemberItem.message_key.startswith(STAFF_PREFIX)
        )
        return [(item.staff_account_id, item.email, item.added_at) for item in items]

    def message_metadata(self, thread_id: str) -> list[MessageMetadata]:
        """Dates and directions only: the texts are not even read."""
        items = MessageItem.query(
            thread_id,
            MessageItem.message_key.startswith("message#"),
            attributes_to_get=["thread_id", "message_key", "item_type", "side", "sent_at"],
        )
        return [MessageMetadata(Side(item.side), item.sent_at) for item in items]
