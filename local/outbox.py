"""The local outbox: what the app sent through (emulated) SES, as .eml files to open."""

from __future__ import annotations

import threading
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path


def sent_messages(region: str, account_id: str = "123456789012") -> list[EmailMessage]:
    """Every mail the emulated SES accepted so far, oldest first (also used by the tests)."""
    from moto.ses.models import ses_backends

    backend = ses_backends[account_id][region]
    messages: list[EmailMessage] = []
    for sent in backend.sent_messages:
        raw = getattr(sent, "raw_data", None)
        if raw is None:
            continue
        data = raw.encode() if isinstance(raw, str) else raw
        message = message_from_bytes(data, policy=policy.default)
        # What SES knows of the mail beside its bytes, for its events (local/ses_events.py).
        message.ses_message_id = getattr(sent, "id", None)  # type: ignore[attr-defined]
        message.ses_tags = dict(getattr(sent, "tags", {}) or {})  # type: ignore[attr-defined]
        messages.append(message)  # type: ignore[arg-type]
    return messages


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


class OutboxWriter:
    def __init__(
        self,
        directory: Path,
        region: str,
        account_id: str,
        say: Callable[[str], None],
        on_sent: Callable[[EmailMessage], object] | None = None,
    ) -> None:
        self.directory = directory
        self.region = region
        self.account_id = account_id
        self.say = say
        # What SES does after accepting a mail (local/ses_events.py: the mailbox simulator).
        self.on_sent = on_sent
        self._written = 0

    def flush(self) -> None:
        messages = sent_messages(self.region, self.account_id)
        for message in messages[self._written :]:
            self._written += 1
            path = self.directory / f"{self._written:04d}.eml"
            path.write_bytes(message.as_bytes())
            self.say(f"[courriel] à {message['To']} : « {message['Subject']} » → {path}")
            if self.on_sent is not None:
                try:
                    self.on_sent(message)
                except Exception as error:  # the outbox must keep writing whatever happens
                    self.say(f"[courriel] événement SES non publié : {error!r}")

    def run(self, stop: threading.Event) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for old in self.directory.glob("*.eml"):
            old.unlink()
        while not stop.wait(0.3):
            self.flush()
