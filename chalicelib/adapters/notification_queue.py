"""The notifications queue (SQS): ingestion puts new-payment notices, 10 per request;
« Mot de passe oublié » puts one recovery request, so that its mail leaves the request path, and
an operator's reset of a second factor its notice (both on the security mails' queue)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chalicelib.services.accounts.recovery import RecoveryRequest
from chalicelib.services.accounts.totp import SecondFactorResetNotice
from chalicelib.services.mail.notifications import NewPayment

SQS_BATCH = 10

Notification = NewPayment | RecoveryRequest | SecondFactorResetNotice


def to_message(notification: Notification) -> str:
    if isinstance(notification, SecondFactorResetNotice):
        return json.dumps({"kind": "second-factor-reset", "account": notification.account_id})
    if isinstance(notification, RecoveryRequest):
        return json.dumps(
            {
                "kind": "recovery",
                "ticket": notification.ticket,
                "funder": notification.funder_code,
                "client_ip": notification.client_ip,
            }
        )
    return json.dumps(
        {
            "kind": "new-payment",
            "funder": notification.funder_code,
            "reference": notification.reference,
        }
    )


def from_message(body: str) -> Notification | None:
    payload = json.loads(body)
    if payload.get("kind") == "recovery":
        client_ip = payload.get("client_ip")
        return RecoveryRequest(
            ticket=str(payload["ticket"]),
            funder_code=str(payload["funder"]),
            client_ip=str(client_ip) if client_ip else None,
        )
    if payload.get("kind") == "second-factor-reset":
        return SecondFactorResetNotice(account_id=str(payload["account"]))
    if payload.get("kind") != "new-payment":
        return None
    return NewPayment(funder_code=str(payload["funder"]), reference=str(payload["reference"]))


class SqsNotificationQueue:
    def __init__(self, sqs_client: Any, queue_name: str) -> None:
        self._sqs = sqs_client
        self._queue_name = queue_name
        self._queue_url: str | None = None

    def _url(self) -> str:
        if self._queue_url is None:
            self._queue_url = self._sqs.get_queue_url(QueueName=self._queue_name)["QueueUrl"]
        return self._queue_url

    def enqueue(self, notifications: Sequence[Notification]) -> None:
        for start in range(0, len(notifications), SQS_BATCH):
            batch = notifications[start : start + SQS_BATCH]
            answer = self._sqs.send_message_batch(
                QueueUrl=self._url(),
                Entries=[
                    {"Id": str(index), "MessageBody": to_message(notification)}
                    for index, notification in enumerate(batch)
                ],
            )
            if answer.get("Failed"):
                # Raising sends the funder file back to its queue: the retry re-queues what
                # is not yet notified, and the notified flag keeps a mail from going twice.
                raise RuntimeError(f"{len(answer['Failed'])} notifications non mises en file")
