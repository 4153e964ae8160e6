"""Helpers for tests under moto: drop a funder file, run the queue, count DynamoDB requests."""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

from chalicelib.container import get_container
from local.poller import QueuePoller


def drop(funder_code: str, file_name: str, content: bytes) -> str:
    key = f"incoming/{funder_code}/{file_name}"
    get_container().exchange.put(key, content)
    return key


def run_queue(max_messages: int = 50, queue: str = "funder-files") -> int:
    """Handles every waiting message the way Lambda would; returns how many were handled."""
    return queue_runner(queue)(max_messages)


def queue_runner(queue: str = "funder-files") -> Callable[..., int]:
    """`run_queue` for one queue, its URL looked up now (Lambda's event source mapping knows it)."""
    import app as portal

    failures: list[str] = []
    queue_variable, handler = {
        "funder-files": ("FUNDER_FILES_QUEUE", portal.handle_funder_file_messages),
        "notifications": ("NOTIFICATIONS_QUEUE", portal.handle_notification_messages),
        "security-mails": ("SECURITY_MAILS_QUEUE", portal.handle_security_mail_messages),
        "mail-events": ("MAIL_EVENTS_QUEUE", portal.handle_mail_event_messages),
    }[queue]
    poller = QueuePoller(
        os.environ[queue_variable], handler, failures.append, retry_delay_seconds=0
    )

    def run(max_messages: int = 50) -> int:
        handled = 0
        while handled < max_messages and poller.poll_once():
            handled += 1
        if failures:
            raise AssertionError(failures)
        return handled

    return run


def report(funder_code: str, file_name: str) -> dict[str, str]:
    """The report's summary rows (rubrique → detail) and its rejections under "Rejet"."""
    text = get_container().exchange.read(f"reports/{funder_code}/{file_name}.report.csv")
    rows = [line.split(";", 3) for line in text.decode("utf-8-sig").splitlines()[1:]]
    summary = {row[0]: row[3] for row in rows if row[0] != "Rejet"}
    summary["Rejet"] = "\n".join(";".join(row[1:]) for row in rows if row[0] == "Rejet")
    return summary


@contextlib.contextmanager
def count_dynamodb_requests() -> Iterator[Counter[str]]:
    """Counts every DynamoDB API call PynamoDB makes, by operation name."""
    from pynamodb.connection.base import Connection

    counts: Counter[str] = Counter()
    original = Connection._make_api_call

    def counting(self: Connection, operation_name: str, *args: object, **kwargs: object) -> object:
        counts[operation_name] += 1
        return original(self, operation_name, *args, **kwargs)

    with mock.patch.object(Connection, "_make_api_call", counting):
        yield counts


@contextlib.contextmanager
def ses_send_requests() -> Iterator[list[dict[str, Any]]]:
    """The parameters of every SendRawEmail the portal's SES client makes (moto keeps the raw
    mail, not its message tags: a test reads them here to publish the event SES would)."""
    sent: list[dict[str, Any]] = []

    def remember(params: dict[str, Any], **_: object) -> None:
        sent.append(dict(params))

    events = get_container().client("ses").meta.events
    events.register("provide-client-params.ses.SendRawEmail", remember)
    try:
        yield sent
    finally:
        events.unregister("provide-client-params.ses.SendRawEmail", remember)
