"""Many conditional puts at once: TransactWriteItems of up to 100 items, conflicts sorted out.

BatchWriteItem takes no condition, so a batch write replaces whatever a concurrent writer stored
in between. TransactWriteItems takes one per item, up to 100 items per request (AWS: « The
aggregate size of the items in the transaction cannot exceed 4 MB », 100 actions at most). When
any condition fails DynamoDB cancels the whole request and says, item by item, why
(`CancellationReasons`: `ConditionalCheckFailed`, `TransactionConflict` when a concurrent
transaction holds the item, `None` for the items that were fine): the failed items are handed
back to the caller, the others are sent again, and a `TransactionConflict` is simply retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

MAX_TRANSACTION_ITEMS = 100
CONFLICT_ATTEMPTS = 5  # TransactionConflict: another transaction held one of our items


class TransactionKeptConflicting(Exception):
    """Items stayed in concurrent transactions after every retry: the caller's run fails and is
    retried later (a funder file goes back to its queue)."""


def refusals(error: TransactWriteError) -> list[str | None]:
    """Why DynamoDB cancelled a transaction, item by item; empty when it was not cancelled
    (throttled, failed): then no condition was even checked."""
    if error.cause_response_code != "TransactionCanceledException":
        return []
    return [reason.code if reason else None for reason in error.cancellation_reasons]


def written_unless_refused(region: str, fill: Callable[[TransactWrite], None]) -> bool:
    """Writes the transaction that `fill` builds, all or nothing; False (nothing written) when
    one of its conditions refused it. Throttled or failing: raised, nothing written either."""
    try:
        with TransactWrite(connection=Connection(region=region)) as transaction:
            fill(transaction)
    except TransactWriteError as error:
        if "ConditionalCheckFailed" in refusals(error):
            return False
        raise
    return True


def put_if(entries: Sequence[tuple[Model, Condition]], region: str) -> set[int]:
    """Puts each item whose condition holds; the indexes of those whose condition failed."""
    failed: set[int] = set()
    for start in range(0, len(entries), MAX_TRANSACTION_ITEMS):
        pending = list(range(start, min(start + MAX_TRANSACTION_ITEMS, len(entries))))
        conflicts = 0
        while pending:
            try:
                with TransactWrite(connection=Connection(region=region)) as transaction:
                    for index in pending:
                        item, condition = entries[index]
                        transaction.save(item, condition=condition)
            except TransactWriteError as error:
                reasons = [reason.code if reason else None for reason in error.cancellation_reasons]
                if len(reasons) != len(pending):  # not a cancellation: nothing to sort out
                    raise
                refused = {
                    i
                    for i, code in zip(pending, reasons, strict=True)
                    if code == "ConditionalCheckFailed"
                }
                unexpected = {code for code in reasons} - {
                    None,
                    "None",
                    "ConditionalCheckFailed",
                    "TransactionConflict",
                }
                if unexpected:
                    raise
                failed |= refused
                if not refused:
                    conflicts += 1
                    if conflicts >= CONFLICT_ATTEMPTS:
                        raise TransactionKeptConflicting(str(error)) from error
                    time.sleep(0.05 * 2**conflicts)
                pending = [index for index in pending if index not in refused]
                continue
            pending = []
    return failed
