"""« Mes messages »: what a conversation is made of, the rules of what may be written, and what
the services need of the store. The use cases themselves are in `messages.py`."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeVar

from chalicelib.services.accounts.sessions import Session
from chalicelib.services.messages.unread import UnreadSnapshot
from chalicelib.services.trainings.dossiers import Dossier

MAX_SUBJECT_LENGTH = 150
MAX_TEXT_LENGTH = 5000
# A thread is read by one Query (docs/specs/performance.md): bounded, it stays one request under
# 1 MB.
MAX_MESSAGES_PER_THREAD = 50
PAGE_SIZE = 20
THREAD_ID = re.compile(r"[0-9a-f]{32}")
# « not found » and « someone else's » read the same: an answer must not tell that a
# conversation exists for another account.
THREAD_NOT_FOUND = "Cette conversation n’existe pas ou n’est pas accessible depuis votre compte."
# Where « Mes messages » does not exist for the reader (no funder of theirs enables it).
NO_MESSAGES = "« Mes messages » n’est proposé pour aucune de vos formations."
NO_ORGANISATION_MESSAGES = "« Mes messages » n’est proposé pour aucune formation de cet organisme."
# Control characters other than line feed and tab: nothing a person means to write.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
T = TypeVar("T")


class Side(StrEnum):
    TRAINEE = "trainee"
    ORGANISATION = "organisation"

    @property
    def other(self) -> Side:
        return Side.ORGANISATION if self is Side.TRAINEE else Side.TRAINEE


@dataclass(frozen=True)
class Thread:
    thread_id: str
    account_id: str  # the trainee's
    organisation_siret: str
    organisation_name: str
    funder_code: str
    dossier_number: str
    training_title: str
    trainee_name: str
    subject: str
    created_at: datetime
    updated_at: datetime
    message_count: int
    unread_for_trainee: int
    unread_for_organisation: int
    last_side: Side

    def unread_for(self, side: Side) -> int:
        return self.unread_for_trainee if side is Side.TRAINEE else self.unread_for_organisation

    @property
    def account_closed(self) -> bool:
        """The trainee closed the account: the thread stays with the dossier, read-only."""
        from chalicelib.services.accounts.retention import ORPHAN_THREAD_PREFIX

        return self.account_id.startswith(ORPHAN_THREAD_PREFIX)


@dataclass(frozen=True)
class Message:
    thread_id: str
    key: str
    side: Side
    author_account_id: str
    text: str
    sent_at: datetime


@dataclass(frozen=True)
class MessageMetadata:
    """What « Mes données » lists of a message: never its text."""

    side: Side
    sent_at: datetime


@dataclass(frozen=True)
class ThreadPage:
    threads: list[Thread]  # most recently updated first
    next_cursor: str | None = None


@dataclass(frozen=True)
class OwnerState:
    """An owner's unread counters as one snapshot, and (organisations) its staff accounts."""

    snapshot: UnreadSnapshot
    staff_account_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Inbox:
    threads: list[Thread]
    next_cursor: str | None
    side: Side  # the reader's
    trainings: list[Dossier] = field(default_factory=list)  # trainee side: where one may write


@dataclass(frozen=True)
class ThreadView:
    thread: Thread  # as it was before this reading
    messages: list[Message]  # oldest first: the newest is last
    side: Side
    new_keys: frozenset[str]  # the other side's messages unread until this reading
    unread_by_other_keys: frozenset[str]  # the reader's own messages not yet read over there
    session: Session  # the reading session, with its count lowered


@dataclass(frozen=True)
class Sent:
    """A message written (or found written by an earlier try with the same submission id)."""

    thread_id: str
    notified: bool = True  # False when the mail could not leave (the message is kept anyway)


class DossierLeft(Exception):
    """The thread's dossier is no longer the sender's (withdrawn, purged) by the time the thread
    is written: it was read as theirs, and went before the write."""


class MessageRepository(Protocol):
    def create_thread(
        self,
        thread: Thread,
        message: Message,
        recipient_owner: str,
        submission: str | None = None,
    ) -> bool:
        """The summary, its first message and the recipient's counter, all at once; with a
        `submission` key, also the mark of that submission, so that the same key never writes
        twice. False when that key was used already. In the same transaction, a check that the
        dossier is still the thread's account's: raises DossierLeft when it is not, and nothing
        is written (a removal sweeps the dossier's threads; none may start behind it)."""
        ...

    def add_message(
        self,
        thread: Thread,
        message: Message,
        recipient_owner: str,
        submission: str | None = None,
    ) -> bool:
        """False when the thread is gone, already holds MAX_MESSAGES_PER_THREAD messages, or the
        `submission` key was used already."""
        ...

    def submitted(self, submission: str) -> str | None:
        """The thread written by that submission key, if one was."""
        ...

    def mark_read(
        self, thread: Thread, side: Side, owner: str, token_hash: str, snapshot: UnreadSnapshot
    ) -> bool:
        """Zeroes the side's unread count of the thread, lowers the owner's counter and puts
        `snapshot` on the reading session, all at once; False if someone read it meanwhile."""
        ...

    def thread_with_messages(self, thread_id: str) -> tuple[Thread, list[Message]] | None: ...

    def threads_of_account(self, account_id: str, limit: int, cursor: str | None) -> ThreadPage: ...

    def threads_of_organisation(self, siret: str, limit: int, cursor: str | None) -> ThreadPage: ...

    def owner_state(self, owner: str) -> OwnerState: ...

    def add_staff_member(self, siret: str, account_id: str, email: str, at: datetime) -> None: ...

    def message_metadata(self, thread_id: str) -> list[MessageMetadata]: ...


class UnreadSessions(Protocol):
    def publish_unread(self, account_id: str, snapshot: UnreadSnapshot) -> int: ...


def stamp(moment: datetime) -> str:
    """A UTC time that sorts as text: the indexes' sort key and the messages' keys."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


SUBMISSION_ID = re.compile(r"[A-Za-z0-9_-]{16,100}")
BAD_SUBMISSION_ID = (
    "L’identifiant d’envoi doit faire de 16 à 100 caractères parmi les lettres non accentuées, "
    "les chiffres, « - » et « _ »."
)


def submission_key(account_id: str, submission_id: str) -> str:
    """One sender's submission: the id a form or an app chose, scoped to the account so that
    nobody else's id can collide with (or reveal) it."""
    digest = hashlib.sha256(f"{account_id}:{submission_id}".encode()).hexdigest()
    return f"message-submission#{digest}"


def new_message_key(sent_at: datetime) -> str:
    return f"message#{stamp(sent_at)}#{secrets.token_hex(4)}"


def clean_subject(subject: str) -> str:
    return " ".join(_CONTROL.sub(" ", subject).split())


def clean_text(text: str) -> str:
    """Line breaks kept (they are shown), other control characters and trailing spaces gone."""
    lines = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def subject_errors(subject: str) -> dict[str, str]:
    if not subject:
        return {"subject": "Saisissez l’objet de votre message."}
    if len(subject) > MAX_SUBJECT_LENGTH:
        return {
            "subject": f"L’objet doit faire {MAX_SUBJECT_LENGTH} caractères au plus "
            f"(il en fait {len(subject)})."
        }
    return {}


def text_errors(text: str) -> dict[str, str]:
    if not text.strip():
        return {"text": "Saisissez votre message."}
    if len(text) > MAX_TEXT_LENGTH:
        return {
            "text": f"Votre message doit faire {MAX_TEXT_LENGTH:,} caractères au plus "
            f"(il en fait {len(text):,}).".replace(",", "\u202f")
        }
    return {}


def last(items: list[T], count: int) -> list[T]:
    """The last `count` items (none for 0), however large `count` is: a side's unread messages
    are its last ones, as many as the thread counts for it."""
    return items[max(0, len(items) - count) :] if count > 0 else []
