"""The one way a use case says no. A service method answers with its result value, or raises one
of these; each face maps them once (`chalicelib/web/guards.py` to pages, `chalicelib/api/
responses.py::api_view` to JSON errors), so no route decides on its own how « not yours » or
« too many attempts » look.

Error keys of `Invalid` and `Throttled` name the use case's inputs, not a form's fields
(`funder_code`, `dossier_number`, `period_start`, `period_end`, `code`…): each face puts them
under its own field names with one table. Messages are French sentences for the person.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime


class DomainError(Exception):
    """Base of the refusals a face turns into an answer."""


class NotFound(DomainError):
    """Missing, or someone else's: the same answer, so that nothing can be enumerated."""

    def __init__(self, message: str, code: str = "not_found") -> None:
        super().__init__(code)
        self.message = message
        self.code = code


class Forbidden(DomainError):
    """Known, but not for this caller now (a login not complete, a read-only role…)."""

    def __init__(self, message: str, code: str = "forbidden") -> None:
        super().__init__(code)
        self.message = message
        self.code = code


class Invalid(DomainError):
    """Inputs to correct: one French message per input (field-neutral key)."""

    def __init__(self, errors: Mapping[str, str], code: str = "validation_failed") -> None:
        super().__init__(code)
        self.errors = dict(errors)
        self.code = code


class Expired(Invalid):
    """A pending step (a claim awaiting its code…) is no longer valid: start again."""

    def __init__(self, errors: Mapping[str, str], code: str = "claim_expired") -> None:
        super().__init__(errors, code)


class Throttled(DomainError):
    """Too many attempts: the next one is possible at `retry_after` (UTC). `also`: the other
    inputs to correct meanwhile, told with it."""

    def __init__(
        self,
        retry_after: datetime,
        message: str,
        key: str,
        also: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__("too_many_attempts")
        self.retry_after = retry_after
        self.message = message
        self.key = key
        self.also = dict(also or {})

    @property
    def errors(self) -> dict[str, str]:
        return {self.key: self.message, **self.also}


class RateLimited(DomainError):
    """Too many requests from one client address for an action (a fixed window)."""

    def __init__(self, message: str) -> None:
        super().__init__("rate_limited")
        self.message = message
        self.code = "rate_limited"


class SignedOut(DomainError):
    """The session's account is gone (closed or deleted since the login): so is the session."""
