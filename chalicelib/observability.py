"""Powertools Logger and Metrics, one of each per container (docs/specs/architecture.md, D8: no
Tracer, it is costly), made when first used: most requests log nothing and count nothing, and
importing Powertools costs a cold start about 7 ms (tests/integration/test_cold_import.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

SERVICE = "portail-stagiaire"
METRICS_NAMESPACE = "PortailStagiaire"


class LazyLogger:
    """Stands for the portal's Powertools Logger. The observability middleware sets and reads
    each request's correlation id: kept here until something is logged, then handed over."""

    def __init__(self) -> None:
        self._logger: Logger | None = None
        self._correlation_id: str | None = None

    def set_correlation_id(self, value: str | None) -> None:
        self._correlation_id = value
        if self._logger is not None:
            self._logger.set_correlation_id(value)

    def get_correlation_id(self) -> str | None:
        return self._correlation_id

    def __getattr__(self, name: str) -> Any:  # only for what the proxy itself lacks
        if self._logger is None:
            from aws_lambda_powertools import Logger

            self._logger = Logger(service=SERVICE)
            self._logger.set_correlation_id(self._correlation_id)
        return getattr(self._logger, name)


class LazyMetrics:
    """Stands for the portal's Powertools Metrics; nothing to flush until a metric is added."""

    def __init__(self) -> None:
        self._metrics: Metrics | None = None

    @property
    def metric_set(self) -> dict[str, Any]:
        return {} if self._metrics is None else self._metrics.metric_set

    def __getattr__(self, name: str) -> Any:  # only for what the proxy itself lacks
        if self._metrics is None:
            from aws_lambda_powertools import Metrics

            self._metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
        return getattr(self._metrics, name)


logger = LazyLogger()
metrics = LazyMetrics()


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
