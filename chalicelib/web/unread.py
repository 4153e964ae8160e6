"""The unread messages count at the top right of every signed-in page (guide, step 7: « la
notification des messages reçus sera affichée en haut à droite »).

Pages are written by several blueprints that each render their own template; rather than make
every one of them pass the count, the session that `current_session` resolved for this request is
remembered here and the layout asks for the badge. The count comes from the session item itself
(chalicelib/services/messages/unread.py), so showing it costs no DynamoDB request.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from chalice.app import Request, Response

from chalicelib.container import get_container
from chalicelib.services.accounts.model import AccountKind
from chalicelib.services.accounts.sessions import Session

TRAINEE_MESSAGES_PATH = "/messages"
STAFF_MESSAGES_PATH = "/organisme/messages"

_request_session: ContextVar[Session | None] = ContextVar("request_session", default=None)


def remember(session: Session | None) -> None:
    _request_session.set(session)


def forget_between_requests(
    request: Request, get_response: Callable[[Request], Response]
) -> Response:
    """HTTP middleware: a warm Lambda serves requests one after the other in the same context,
    so the session of the previous request must never show on this one."""
    _request_session.set(None)
    try:
        return get_response(request)
    finally:
        _request_session.set(None)


@dataclass(frozen=True)
class UnreadBadge:
    count: int
    href: str
    label: str

    @property
    def spoken(self) -> str:
        """What a screen reader says of the count."""
        if self.count == 0:
            return "aucun message non lu"
        plural = "s" if self.count > 1 else ""
        return f"{self.count} message{plural} non lu{plural}"


def unread_badge() -> UnreadBadge | None:
    """The badge of the page being rendered: always in the organisations' space; for a trainee,
    only when a message awaits (the guide's notification), since the « Mes messages » tab of
    « Mes formations » is there for the rest."""
    session = _request_session.get()
    if session is None or session.pending_step is not None:
        return None
    count = get_container().unread_counts.total(session.unread)
    if session.kind is AccountKind.STAFF:
        return UnreadBadge(count, STAFF_MESSAGES_PATH, "Messages")
    return UnreadBadge(count, TRAINEE_MESSAGES_PATH, "Mes messages") if count else None
