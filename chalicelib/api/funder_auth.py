"""The API key guard of `/api/v1/funder/…`: a funder's own systems send
`Authorization: Bearer pfk_…` (or `X-Api-Key: pfk_…`); see services/funders/api_keys.py."""

from __future__ import annotations

from chalice.app import Request

from chalicelib.api.responses import ApiError
from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.funders.api_keys import FunderClient, TooManyFailures

REALM = 'Bearer realm="portail-stagiaire-financeurs"'
MAX_KEY_LENGTH = 256
NOT_AUTHENTICATED = (
    "Clé d’API du financeur absente, inconnue ou révoquée : envoyez l’en-tête "
    "« Authorization: Bearer <clé> » avec la clé remise par l’opérateur."
)
TOO_MANY = "Trop de clés refusées depuis cette adresse : réessayez dans quelques minutes."

__all__ = ["FunderClient", "authenticate_funder"]


def presented_key(request: Request) -> str | None:
    header = (request.headers.get("authorization") or "").strip()
    scheme, _, token = header.partition(" ")
    key = token.strip() if scheme.lower() == "bearer" else ""
    key = key or (request.headers.get("x-api-key") or "").strip()
    return key if key and len(key) <= MAX_KEY_LENGTH else None


def authenticate_funder(request: Request) -> FunderClient:
    """The funder whose valid key the request carries; 401 otherwise (429 after too many wrong
    keys from this address). Routes take `funder_code` from the result, never from the request."""
    key = presented_key(request)
    route = f"{request.method} {request.context.get('resourcePath') or request.path}"
    try:
        client = get_container().funder_api_keys.authenticate(key, client_ip(request), route)
    except TooManyFailures as error:
        raise ApiError(
            429,
            "rate_limited",
            TOO_MANY,
            headers={"Retry-After": str(int(error.retry_after.total_seconds()))},
        ) from None
    if client is None:
        sent = bool(request.headers.get("authorization") or request.headers.get("x-api-key"))
        challenge = f'{REALM}, error="invalid_token"' if sent else REALM
        raise ApiError(
            401, "not_authenticated", NOT_AUTHENTICATED, headers={"WWW-Authenticate": challenge}
        )
    return client
