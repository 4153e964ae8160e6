"""Powertools wired the Chalice way: one middleware for every event type (HTTP and SQS)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

from chalicelib.adapters import unavailability
from chalicelib.observability import logger, metrics


def _correlation_id(event: Any) -> str | None:
    context = getattr(event, "context", None)
    if isinstance(context, dict):  # HTTP: API Gateway's request id
        return context.get("requestId")
    return getattr(context, "aws_request_id", None)  # other events: Lambda's request id


def observe(event: Any, get_response: Callable[[Any], Any]) -> Any:
    # Locally (chalice's gateway gives no request id) a fresh one still ties a request's logs.
    logger.set_correlation_id(_correlation_id(event) or str(uuid4()))
    unavailability.forget()  # a warm Lambda serves many requests: each starts afresh
    try:
        return get_response(event)
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
        logger.set_correlation_id(None)
