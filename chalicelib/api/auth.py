"""Bearer sessions for the JSON API: the same server-side sessions and first-login gate as the
browser's `chalicelib/web/guards.py::signed_in_session`, answering JSON instead of redirecting."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from chalice.app import Request

from chalicelib.api.responses import ApiError, not_authenticated
from chalicelib.container import get_container
from chalicelib.services.accounts.model import AccountKind, Step
from chalicelib.services.accounts.sessions import Session

# Our tokens are 43 characters; anything much longer is not one of ours and is not looked up.
MAX_TOKEN_LENGTH = 256
STEP_MESSAGES = {
    Step.PASSWORD: (
        "Une étape de première connexion reste à faire : choisissez votre mot de passe personnel."
    ),
    Step.SECRET_QUESTION: (
        "Une étape de première connexion reste à faire : créez votre question secrète et sa "
        "réponse."
    ),
    Step.TERMS: (
        "Une étape reste à faire : acceptez les conditions générales d’utilisation en vigueur."
    ),
    # Staff accounts only: the API has no route for these; they are done in the browser.
    Step.TOTP_ENROL: (
        "Une étape de première connexion reste à faire dans le navigateur : installez votre "
        "application d’authentification."
    ),
    Step.TOTP: (
        "Une étape reste à faire dans le navigateur : saisissez le code de votre application "
        "d’authentification."
    ),
}
TRAINEES_ONLY = (
    "Cette ressource est réservée aux comptes des stagiaires : un compte d’organisme de formation "
    "utilise l’espace des organismes."
)
NO_STEP_PENDING = (
    "Cette étape est déjà faite : aucune étape de première connexion n’est en attente."
)


class Gate(Enum):
    """What a route accepts beyond the exact steps of `Step`."""

    ANY_STEP = "any-step"  # what tells the app where it stands, and logout


ANY_STEP = Gate.ANY_STEP


@dataclass(frozen=True)
class ApiSession:
    token: str
    session: Session
    pending_step: Step | None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token


def step_required(step: Step) -> ApiError:
    return ApiError(403, "step_required", STEP_MESSAGES[step], extra={"step": step.value})


def authenticate(request: Request, step: Step | Gate | None = None) -> ApiSession:
    """The caller's live session, if it may reach a route that wants `step`: None for the portal
    itself (first-login steps done), one `Step` for that step's route, or `ANY_STEP`.

    Raises 401 without a live session, 403 `step_required` (naming the step to do) while another
    step is pending, 409 `step_not_pending` when the route's step has nothing left to do, and 403
    `trainees_only` to an organisation's staff on the portal's routes (as the web pages refuse
    them: a staff member has no dossier, « Mes données » nor « Mon compte » of a trainee)."""
    token = bearer_token(request)
    container = get_container()
    session = container.sessions.resolve(token)
    if token is None or session is None:
        raise not_authenticated(token_sent=bool(request.headers.get("authorization")))
    pending = container.sessions.step_due(session)
    if step is not ANY_STEP and pending != step:
        if pending is not None:
            raise step_required(pending)
        raise ApiError(409, "step_not_pending", NO_STEP_PENDING, extra={"pending_step": None})
    if step is None and session.kind is not AccountKind.TRAINEE:
        raise ApiError(403, "trainees_only", TRAINEES_ONLY)
    return ApiSession(token, session, pending)
