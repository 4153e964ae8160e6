"""Reading JSON request bodies defensively: whatever a client sends, the answer is a 4xx in the
API's error shape, never a 500. Business rules stay in the services; this only checks shapes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalice.app import Request

from chalicelib.api.responses import ApiError

MAX_BODY_BYTES = 64 * 1024

BODY_TOO_LARGE = "Le corps de la requête dépasse la taille permise (64 Ko)."
NOT_JSON = "Le corps de la requête doit être un objet JSON valide, encodé en UTF-8."
NOT_AN_OBJECT = 'Le corps de la requête doit être un objet JSON, par exemple {"champ": "valeur"}.'
WRONG_FIELDS = "La requête est mal formée : vérifiez les champs indiqués."
MISSING = "Ce champ est obligatoire."
NOT_TEXT = "Ce champ doit être une chaîne de caractères."
NOT_FLAG = "Ce champ doit valoir true ou false."


def invalid_request(message: str, fields: Mapping[str, str] | None = None) -> ApiError:
    return ApiError(400, "invalid_request", message, fields)


def read_json_object(request: Request) -> dict[str, Any]:
    body = request.raw_body or b""
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "payload_too_large", BODY_TOO_LARGE)
    try:
        parsed = json.loads(body.decode("utf-8"))
    # A deeply nested array exhausts the parser's recursion before any size check would.
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise invalid_request(NOT_JSON) from error
    if not isinstance(parsed, dict):
        raise invalid_request(NOT_AN_OBJECT)
    return parsed


@dataclass(frozen=True)
class Fields:
    """The checked fields of a body, typed for the code that reads them."""

    values: dict[str, str | bool]

    def text(self, name: str) -> str:
        value = self.values[name]
        assert isinstance(value, str)
        return value

    def flag(self, name: str) -> bool:
        value = self.values[name]
        assert isinstance(value, bool)
        return value


def read_fields(
    request: Request,
    texts: Iterable[str] = (),
    flags: Iterable[str] = (),
    defaults: Mapping[str, str | bool] | None = None,
) -> Fields:
    """The body's `texts` (strings) and `flags` (booleans). A field is required unless it has a
    default, which also stands for an explicit null. Unknown fields are ignored, so that an app
    built for a later version of the API keeps working."""
    body = read_json_object(request)
    defaults = defaults or {}
    values: dict[str, str | bool] = {}
    errors: dict[str, str] = {}
    for names, expected, wrong_type in ((texts, str, NOT_TEXT), (flags, bool, NOT_FLAG)):
        for name in names:
            value = body.get(name)
            if value is None and name in defaults:
                values[name] = defaults[name]
            elif name not in body:
                errors[name] = MISSING
            elif not isinstance(value, expected):
                errors[name] = wrong_type
            else:
                values[name] = value
    if errors:
        raise invalid_request(WRONG_FIELDS, errors)
    return Fields(values)
