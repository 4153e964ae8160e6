"""What every answer of the JSON API looks like: UTF-8 JSON, never cached, one error shape.

Errors: `{"error": {"code": "<stable english code>", "message": "<French sentence>",
"fields": {"<field>": "<French message>"}}}`. Apps branch on `code` (it never changes) and show
`message` and `fields` to the person as they are.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import wraps
from typing import Any

from chalice import Response
from chalice.app import Request

from chalicelib.adapters import unavailability
from chalicelib.container import now
from chalicelib.observability import logger
from chalicelib.services.errors import (
    DomainError,
    Expired,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    SignedOut,
    Throttled,
)

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
# Chalice matches the request's Content-Type against this list before calling a view.
JSON_CONTENT_TYPES = ["application/json"]
API_PREFIX = "/api/"

REALM = 'Bearer realm="portail-stagiaire"'
NOT_AUTHENTICATED = (
    "Identifiez-vous pour accéder à cette ressource : la session est absente, expirée ou fermée."
)
# The services name the inputs of a use case; the API's fields, published in openapi.json, name
# a few of them otherwise. The one table between the two.
API_FIELDS = {
    "funder_code": "funder",
    "period_start": "from",
    "period_end": "to",
    "new_secret_answer": "answer",
}
INTERNAL_ERROR = "Une erreur inattendue est survenue. Réessayez dans quelques instants."
UNAVAILABLE = "Le service est momentanément indisponible. Réessayez dans quelques minutes."
# The message of every 400 `validation_failed`: the details are in `fields`.
FIELDS_TO_FIX = "Certaines informations sont à corriger : voyez le message de chaque champ."
# Chalice answers these itself, before or around our views, in its own shape: the middleware
# below gives them ours, so that an app has a single error format to read.
CHALICE_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request", "La requête est mal formée."),
    403: ("forbidden", "Cette adresse n’existe pas ou n’est pas accessible."),
    404: ("not_found", "Cette ressource n’existe pas."),
    405: ("method_not_allowed", "Cette méthode n’est pas acceptée à cette adresse."),
    415: (
        "unsupported_media_type",
        "Envoyez le corps de la requête en JSON, avec l’en-tête Content-Type: application/json.",
    ),
}
# Headers of Chalice's own answers worth keeping when we rewrite them.
KEPT_HEADERS = ("allow", "retry-after", "www-authenticate")


def json_response(
    body: Mapping[str, Any] | None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON answer; `body=None` for 204. Authenticated or not, nothing here may be cached."""
    return Response(
        body="" if body is None else json.dumps(body, ensure_ascii=False),
        status_code=status_code,
        headers={"Content-Type": JSON_CONTENT_TYPE, "Cache-Control": "no-store", **(headers or {})},
    )


def error_response(
    status_code: int,
    code: str,
    message: str,
    fields: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = dict(fields)
    error.update(extra or {})
    return json_response({"error": error}, status_code, headers)


class ApiError(Exception):
    """Raised anywhere below a view wrapped by `api_view`; becomes the error answer."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(code)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def response(self) -> Response:
        return error_response(
            self.status_code, self.code, self.message, self.fields, self.headers, self.extra
        )


def seconds_until(moment: datetime) -> int:
    """A Retry-After value: whole seconds, at least one."""
    return max(1, math.ceil((moment - now()).total_seconds()))


def not_authenticated(token_sent: bool) -> ApiError:
    # RFC 6750: a token that was sent but is not (or no longer) valid is an "invalid_token".
    challenge = f'{REALM}, error="invalid_token"' if token_sent else REALM
    return ApiError(
        401, "not_authenticated", NOT_AUTHENTICATED, headers={"WWW-Authenticate": challenge}
    )


def api_fields(errors: Mapping[str, str]) -> dict[str, str]:
    return {API_FIELDS.get(key, key): message for key, message in errors.items()}


def domain_error(error: DomainError) -> ApiError:
    """The API's answer to each refusal of the services (`chalicelib/services/errors.py`)."""
    if isinstance(error, NotFound):
        return ApiError(404, error.code, error.message)
    if isinstance(error, Throttled):
        retry = {"Retry-After": str(seconds_until(error.retry_after))}
        fields = api_fields(error.errors)
        return ApiError(429, "too_many_attempts", error.message, fields, headers=retry)
    if isinstance(error, Expired):
        fields = api_fields(error.errors)
        return ApiError(400, error.code, next(iter(fields.values())), fields)
    if isinstance(error, Invalid):
        return ApiError(400, error.code, FIELDS_TO_FIX, api_fields(error.errors))
    if isinstance(error, RateLimited):
        return ApiError(429, error.code, error.message)
    if isinstance(error, Forbidden):
        return ApiError(403, error.code, error.message)
    if isinstance(error, SignedOut):
        return not_authenticated(token_sent=True)  # it was sent, and is worth nothing now
    raise error


def api_view(view: Callable[..., Response]) -> Callable[..., Response]:
    """Lets a view (and the helpers and services it calls) stop with `raise ApiError(...)` or a
    domain error of the services: Chalice would turn any exception it does not know into a 500."""

    @wraps(view)
    def wrapper(**path_parameters: str) -> Response:
        try:
            return view(**path_parameters)
        except ApiError as error:
            return error.response()
        except DomainError as error:
            return domain_error(error).response()

    return wrapper


def api_errors(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """HTTP middleware: under /api/, Chalice's own error answers (415, 405, 500...) take the API's
    error shape, and every answer is JSON that is never cached. Other paths are left alone."""
    response = get_response(request)
    if not (request.path or "").startswith(API_PREFIX):
        return response
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        status = response.status_code
        code, message = CHALICE_ERRORS.get(status, ("internal_error", INTERNAL_ERROR))
        kept = {
            name: value
            for name, value in response.headers.items()
            if name.lower() in KEPT_HEADERS and isinstance(value, str)
        }
        extra: dict[str, str] = {}
        if status >= 500:
            if unavailability.cause():  # AWS still throttled or failing after the retries
                status, code, message = 503, "service_unavailable", UNAVAILABLE
                kept["Retry-After"] = "60"
            # What finds this request's logs when someone reports the error.
            reference = logger.get_correlation_id()
            if reference:
                extra["reference"] = reference
        return error_response(status, code, message, headers=kept, extra=extra)
    response.headers.setdefault("Content-Type", JSON_CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response
