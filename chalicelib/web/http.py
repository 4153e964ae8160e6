"""What every HTML area needs of HTTP: forms, cookies, the session, CSRF, redirects."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from chalice import Response
from chalice.app import Request

from chalicelib.container import get_container
from chalicelib.services.accounts.model import AccountKind, Step
from chalicelib.services.accounts.sessions import IDLE_TIMEOUT, Session
from chalicelib.web.rendering import html_page
from chalicelib.web.unread import remember

FORM_CONTENT_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data"]
MAX_FORM_BYTES = 64 * 1024
STEP_PATHS = {
    Step.PASSWORD: "/premiere-connexion/mot-de-passe",
    Step.SECRET_QUESTION: "/premiere-connexion/question-secrete",
    Step.TERMS: "/cgu",
    Step.TOTP_ENROL: "/double-authentification/activation",
    Step.TOTP: "/double-authentification",
}
HOME_PATH = "/formations"
STAFF_HOME_PATH = "/organisme/messages"
FUNDER_HOME_PATH = "/financeur"


def home_path(session: Session) -> str:
    """Where a session lands once its first-login steps are done: organisation staff have
    their own space, and no training of their own."""
    if session.kind is AccountKind.FUNDER_STAFF:
        return FUNDER_HOME_PATH
    return STAFF_HOME_PATH if session.kind is AccountKind.STAFF else HOME_PATH


def session_cookie_name() -> str:
    # The __Host- prefix needs `Secure`, which the local stage on plain http cannot set.
    return "__Host-session" if get_container().settings.secure_cookies else "session"


def csrf_cookie_name() -> str:
    return "__Host-csrf" if get_container().settings.secure_cookies else "csrf"


def cookie(name: str, value: str, max_age: int | None = None) -> str:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if get_container().settings.secure_cookies:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def expired_cookie(name: str) -> str:
    return cookie(name, "", max_age=0)


def read_cookie(request: Request, name: str) -> str | None:
    header = request.headers.get("cookie")
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


class BadForm(ValueError):
    pass


def form_data(request: Request) -> dict[str, str]:
    """The fields of an url-encoded form (first value of each), refusing absurd bodies."""
    body = request.raw_body or b""
    if len(body) > MAX_FORM_BYTES:
        raise BadForm("formulaire trop volumineux")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadForm("encodage invalide") from error
    try:
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=50)
    except ValueError as error:  # more fields than any of our forms has
        raise BadForm("trop de champs") from error
    return {key: values[0] for key, values in parsed.items()}


def redirect(location: str, cookies: list[str] | None = None) -> Response:
    headers: dict[str, str | list[str]] = {"Location": location}
    if cookies:
        headers["Set-Cookie"] = cookies
    return Response(body="", status_code=303, headers=headers)  # type: ignore[arg-type]


@dataclass(frozen=True)
class CurrentSession:
    token: str
    session: Session


def current_session(request: Request) -> CurrentSession | None:
    token = read_cookie(request, session_cookie_name())
    session = get_container().sessions.resolve(token)
    remember(session)  # the page's layout shows its unread messages count
    if token is None or session is None:
        return None
    return CurrentSession(token, session)


def session_cookies(token: str) -> list[str]:
    return [cookie(session_cookie_name(), token, max_age=int(IDLE_TIMEOUT.total_seconds()) * 24)]


# CSRF ------------------------------------------------------------------------------------
# Logged in: a token kept in the session item. Before login: a random cookie that the form
# repeats (double submit), bound to this browser.


def pre_session_csrf(request: Request) -> tuple[str, list[str]]:
    """The anonymous CSRF token for a form, and the cookie to set when it is new."""
    existing = read_cookie(request, csrf_cookie_name())
    if existing and len(existing) >= 32:
        return existing, []
    token = secrets.token_urlsafe(32)
    return token, [cookie(csrf_cookie_name(), token)]


def anonymous_form_page(
    request: Request, template: str, status_code: int = 200, **context: object
) -> Response:
    """A form page for someone not signed in: the anonymous CSRF token in the page (`csrf`), and
    its cookie set when the browser has none yet."""
    csrf, cookies = pre_session_csrf(request)
    response = html_page(template, status_code=status_code, csrf=csrf, **context)
    if cookies:
        response.headers["Set-Cookie"] = cookies  # type: ignore[assignment]
    return response


def pre_session_csrf_ok(request: Request, form: dict[str, str]) -> bool:
    expected = read_cookie(request, csrf_cookie_name())
    sent = form.get("csrf", "")
    return bool(expected) and hmac.compare_digest(expected or "", sent)


def session_csrf_ok(current: CurrentSession, form: dict[str, str]) -> bool:
    return hmac.compare_digest(current.session.csrf_token, form.get("csrf", ""))
