"""Powertools Logger and Metrics, created once at module level (docs/specs/architecture.md, D8: no
Tracer, it is costly)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics

SERVICE = "portail-stagiaire"
METRICS_NAMESPACE = "PortailStagiaire"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)


def count(name: str) -> None:
    """One more occurrence of a use case, as a CloudWatch metric (flushed per invocation)."""
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def metric_name(event: str, method: str | None = None) -> str:
    """ "login-success" + "password" → "LoginSuccessPassword"."""
    parts = [*event.split("-"), *([method] if method else [])]
    return "".join(part.capitalize() for part in parts)


class MeteredAuditLog:
    """Every audit event is also a metric: sign-ups, logins by method and result, lockouts,
    recoveries… one count per use case, with no personal data in it."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def record(
        self,
        account_id: str,
        event: str,
        client_ip: str | None,
        details: dict[str, str] | None = None,
    ) -> None:
        self._inner.record(account_id, event, client_ip, details)
        count(metric_name(event, (details or {}).get("method")))

    def record_unattributed(
        self, event: str, subject: str | None = None, client_ip: str | None = None
    ) -> None:
        self._inner.record_unattributed(event, subject, client_ip)
        count(metric_name(event))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
