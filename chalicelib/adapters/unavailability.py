"""Whether AWS stayed unavailable for the request being served, once botocore's retries ran out.

botocore retries a throttled or failing call itself (with backoff); when the last attempt still
fails, the call raises and the page or API answer becomes a server error. This module notes, for
the current request only, that the cause was AWS saying « too much » or « not now » (throttling,
a 5xx, no connection), so that the answer says « service indisponible, réessayez » (503) rather
than « erreur inattendue » (500). A botocore handler: on the portal's boto3 clients (`watch`),
and on every client created after `install()` (PynamoDB creates its own).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",  # DynamoDB
        "ThrottlingException",  # DynamoDB, Secrets Manager, most JSON services
        "RequestLimitExceeded",  # DynamoDB account-level
        "Throttling",  # SES, query services
        "SlowDown",  # S3
        "RequestThrottled",  # SQS
        "InternalServerError",  # DynamoDB
        "InternalServiceError",  # Secrets Manager
        "InternalFailure",
        "ServiceUnavailable",
    }
)

_cause: ContextVar[str | None] = ContextVar("aws_unavailable", default=None)


def _after_call(http_response: Any = None, parsed: Any = None, model: Any = None, **_: Any) -> None:
    error = parsed.get("Error") if isinstance(parsed, dict) else None
    if not error:
        return
    code = str(error.get("Code") or "")
    status = getattr(http_response, "status_code", 0) or 0
    if code in UNAVAILABLE_CODES or status >= 500:
        _cause.set(f"{getattr(model, 'name', '?')}: {code or status}")


def _after_call_error(exception: Exception | None = None, model: Any = None, **_: Any) -> None:
    # No answer at all (connection refused, timeouts) after the retries.
    _cause.set(f"{getattr(model, 'name', '?')}: {type(exception).__name__}")


def install() -> None:
    """Every botocore client created from now on reports to this module."""
    from botocore import handlers

    for entry in (("after-call", _after_call), ("after-call-error", _after_call_error)):
        if entry not in handlers.BUILTIN_HANDLERS:
            handlers.BUILTIN_HANDLERS.append(entry)


def watch(client: Any) -> Any:
    """This client reports to this module, whenever it was created; the client itself."""
    client.meta.events.register("after-call", _after_call, unique_id="portal-unavailability")
    client.meta.events.register(
        "after-call-error", _after_call_error, unique_id="portal-unavailability-error"
    )
    return client


def note(cause: str) -> None:
    """A call that answered but left work undone after its retries (BatchGetItem's
    `UnprocessedKeys`): the same « indisponible, réessayez » as a throttled one."""
    _cause.set(cause)


def forget() -> None:
    """A new request starts with nothing noted."""
    _cause.set(None)


def cause() -> str | None:
    """What AWS service call stayed unavailable during this request, if any."""
    return _cause.get()
