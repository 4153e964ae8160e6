"""Server-side sessions: opaque tokens, only their SHA-256 stored; idle and absolute timeouts."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.services.accounts.model import Account, AccountKind, Clock, Step
from chalicelib.services.accounts.terms import Terms
from chalicelib.services.messages.unread import UnreadSnapshot

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
# Writing "last used" at every request would double the requests of a page: once a minute is
# precise enough for a 30-minute idle timeout.
TOUCH_INTERVAL = timedelta(minutes=1)


class LoginMethod:
    PASSWORD = "password"
    FRANCECONNECT = "franceconnect"


@dataclass(frozen=True)
class Session:
    token_hash: str
    account_id: str
    kind: AccountKind
    method: str
    created_at: datetime
    last_used_at: datetime
    csrf_token: str
    pending_step: Step | None
    terms_version: str | None
    id_token: str | None = None
    unread: UnreadSnapshot = field(default_factory=UnreadSnapshot)

    @property
    def expires_at(self) -> datetime:
        return min(self.last_used_at + IDLE_TIMEOUT, self.created_at + ABSOLUTE_TIMEOUT)


@dataclass(frozen=True)
class SignedIn:
    """A session opened by a login or moved on by a first-login step (the second factor
    included): its token (a new one after a privilege change) and its state."""

    token: str
    session: Session


class SessionRepository(Protocol):
    def create(self, session: Session) -> None: ...

    def get(self, token_hash: str) -> Session | None: ...

    def touch(self, session: Session) -> None: ...

    def save_progress(self, session: Session) -> None: ...

    def delete(self, token_hash: str) -> None: ...

    def delete_for_account(self, account_id: str, keep: str | None = None) -> int: ...


# A session and the current CGU version in one request (store: one BatchGetItem): (session or
# None, current version or None).
SessionWithTerms = Callable[[str], tuple[Session | None, str | None]]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


class Sessions:
    def __init__(
        self,
        repository: SessionRepository,
        clock: Clock,
        unread_of: Callable[[Account], UnreadSnapshot] | None = None,
        terms: Terms | None = None,
        with_terms: SessionWithTerms | None = None,
    ) -> None:
        self._repository = repository
        self._clock = clock
        # Read once at login, so that no page spends a request on the unread messages count.
        self._unread_of = unread_of
        # Every signed-in page checks the session, then the CGU version (`pending_step`): when
        # the version is not in memory (a new Lambda, or after a minute), both in one request.
        self._terms = terms
        self._with_terms = with_terms

    def open(
        self,
        account: Account,
        method: str,
        current_terms_version: str | None,
        id_token: str | None = None,
        second_factor_done: bool = False,
    ) -> tuple[str, Session]:
        token = new_secret()
        now = self._clock()
        session = Session(
            token_hash=hash_token(token),
            account_id=account.account_id,
            kind=account.kind,
            method=method,
            created_at=now,
            last_used_at=now,
            csrf_token=new_secret(),
            # An enrolled account proves its second factor before anything else, whatever the way
            # in (password, recovery): the session reaches nothing until then.
            pending_step=Step.TOTP
            if account.totp_enabled and not second_factor_done
            else account.pending_step(current_terms_version),
            terms_version=current_terms_version,
            id_token=id_token,
            unread=self._unread_of(account) if self._unread_of else UnreadSnapshot(),
        )
        self._repository.create(session)
        return token, session

    def resolve(self, token: str | None) -> Session | None:
        """The live session of that token, or None (unknown, expired or ended)."""
        if not token:
            return None
        if self._terms is not None and self._with_terms is not None and self._terms.stale():
            session, current_terms = self._with_terms(hash_token(token))
            self._terms.remember(current_terms)
        else:
            session = self._repository.get(hash_token(token))
        if session is None:
            return None
        now = self._clock()
        if now >= session.expires_at:
            self._repository.delete(session.token_hash)
            return None
        if now - session.last_used_at >= TOUCH_INTERVAL:
            session = replace(session, last_used_at=now)
            self._repository.touch(session)
        return session

    def step_due(self, session: Session) -> Step | None:
        """The step this session must take now, against the CGU version in force (read with the
        session on a cold page, then kept a minute: no request of its own)."""
        current_version = self._terms.current_version() if self._terms is not None else None
        return self.pending_step(session, current_version)

    def pending_step(self, session: Session, current_terms_version: str | None) -> Step | None:
        """A new CGU version puts every open session back before the CGU page."""
        if session.pending_step is not None:
            return session.pending_step
        if current_terms_version is not None and session.terms_version != current_terms_version:
            return Step.TERMS
        return None

    def advance(
        self, token: str, session: Session, account: Account, current_terms_version: str | None
    ) -> tuple[str, Session]:
        """After a first-login step: the next step, and a new token once the account is complete
        (a privilege change)."""
        step = account.pending_step(current_terms_version)
        if step is None and session.pending_step is not None:
            self.close(token)
            # A step page only serves the session's own pending step, and the TOTP code comes
            # first: whoever advances here has given it (or just enrolled).
            return self.open(
                account,
                session.method,
                current_terms_version,
                session.id_token,
                second_factor_done=True,
            )
        updated = replace(session, pending_step=step, terms_version=current_terms_version)
        self._repository.save_progress(updated)
        return token, updated

    def close(self, token: str) -> None:
        self._repository.delete(hash_token(token))

    def close_all(self, account_id: str, keep_token: str | None = None) -> int:
        keep = hash_token(keep_token) if keep_token else None
        return self._repository.delete_for_account(account_id, keep=keep)
