"""FranceConnect v2's rules as the fake provider enforces them, and what it keeps meanwhile."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from local.fake_franceconnect.identities import TestIdentity

ACR = "eidas1"  # the only level of the "fcp-low" platforms
SCOPES = frozenset(
    {
        "openid",
        "given_name",
        "family_name",
        "birthdate",
        "gender",
        "birthplace",
        "birthcountry",
        "email",
        "preferred_username",
        "identite_pivot",
    }
)
REQUIRED_PARAMETERS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "acr_values",
)
MIN_NONCE_LENGTH = 22
CODE_LIFETIME = 30
TOKEN_LIFETIME = 60
INTERACTION_LIFETIME = 600


class Fault(StrEnum):
    """A defect the next token (or userinfo answer) will have, for the client's failure tests."""

    BAD_SIGNATURE = "bad-signature"  # signed by a key that the JWKS does not hold
    WRONG_NONCE = "wrong-nonce"
    WRONG_AUDIENCE = "wrong-audience"
    EXPIRED = "expired"
    WRONG_ACR = "wrong-acr"
    WRONG_ISSUER = "wrong-issuer"
    USERINFO_BAD_SIGNATURE = "userinfo-bad-signature"
    USERINFO_WRONG_SUBJECT = "userinfo-wrong-subject"


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class Interaction:
    client_id: str
    redirect_uri: str
    state: str
    nonce: str
    scopes: frozenset[str]
    expires_at: float


@dataclass(frozen=True)
class Grant:
    client_id: str
    redirect_uri: str
    identity: TestIdentity
    nonce: str
    scopes: frozenset[str]
    expires_at: float


class ProviderError(Exception):
    """A refused request: `problems` are French sentences for pages, `error` the OAuth code."""

    def __init__(self, status: int, error: str, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.status = status
        self.error = error
        self.problems = problems


def authorization_problems(
    params: Mapping[str, str], clients: Mapping[str, RegisteredClient]
) -> list[str]:
    """What is wrong with an authorisation request, in French; [] when it is acceptable."""
    problems = [
        f"Le paramètre « {name} » est obligatoire."
        for name in REQUIRED_PARAMETERS
        if not params.get(name, "").strip()
    ]
    client = clients.get(params.get("client_id", ""))
    if params.get("client_id") and client is None:
        problems.append(f"Le fournisseur de service « {params['client_id']} » est inconnu.")
    redirect_uri = params.get("redirect_uri", "")
    if client and redirect_uri and redirect_uri not in client.redirect_uris:
        problems.append(
            f"L’adresse de retour « {redirect_uri} » n’est pas déclarée pour ce service."
        )
    if params.get("response_type") and params["response_type"] != "code":
        problems.append("Le paramètre « response_type » doit valoir « code ».")
    if params.get("acr_values") and params["acr_values"] != ACR:
        problems.append(f"Le paramètre « acr_values » doit valoir « {ACR} ».")
    nonce = params.get("nonce", "")
    if nonce and len(nonce) < MIN_NONCE_LENGTH:
        problems.append(
            f"Le paramètre « nonce » doit faire au moins {MIN_NONCE_LENGTH} caractères."
        )
    scopes = frozenset(params.get("scope", "").split())
    if params.get("scope") and "openid" not in scopes:
        problems.append("La portée « openid » est obligatoire.")
    unknown = sorted(scopes - SCOPES)
    if unknown:
        problems.append("Portée(s) inconnue(s) : " + ", ".join(f"« {s} »" for s in unknown))
    return problems
