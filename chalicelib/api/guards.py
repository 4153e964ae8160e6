"""What API routes check before calling a service, shared by every area of /api/v1: the rate limit
of the caller's address and the funder named in the path."""

from __future__ import annotations

from chalice.app import Request

from chalicelib.api.responses import ApiError
from chalicelib.container import get_container
from chalicelib.faces.requests import rate_limit_key
from chalicelib.faces.texts import UNKNOWN_FUNDER
from chalicelib.services.funders.model import Funder, is_valid_funder_code


def enforce_rate_limit(request: Request, action: str, message: str) -> None:
    """429 `rate_limited` with `message` once the address has used up `action`'s allowance; the
    same counters as the pages (a missing address still shares one)."""
    if not get_container().rate_limiter.allow(action, rate_limit_key(request)):
        raise ApiError(429, "rate_limited", message)


def known_funder(funder_code: str) -> Funder:
    """The funder of the path, or 404 `funder_not_found` in the pages' words."""
    funder = get_container().funders.get(funder_code) if is_valid_funder_code(funder_code) else None
    if funder is None:
        raise ApiError(404, "funder_not_found", UNKNOWN_FUNDER)
    return funder
