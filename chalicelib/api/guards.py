"""What API routes check before calling a service, shared by every area of /api/v1: the funder
named in the path. (Rate limits are counted by the services, which raise `RateLimited`.)"""

from __future__ import annotations

from chalicelib.api.responses import ApiError
from chalicelib.container import get_container
from chalicelib.faces.texts import UNKNOWN_FUNDER
from chalicelib.services.funders.model import Funder, is_valid_funder_code


def known_funder(funder_code: str) -> Funder:
    """The funder of the path, or 404 `funder_not_found` in the pages' words."""
    funder = get_container().funders.get(funder_code) if is_valid_funder_code(funder_code) else None
    if funder is None:
        raise ApiError(404, "funder_not_found", UNKNOWN_FUNDER)
    return funder
