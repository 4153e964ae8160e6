"""The daily retention job (EventBridge schedule): warns the inactive accounts due today, closes
those warned 30 days ago and not seen since, and purges the dossiers past their funder's
retention period (services/accounts/retention.py)."""

from __future__ import annotations

from typing import Any

from chalicelib.container import get_container
from chalicelib.observability import logger, metrics


def handle_retention_schedule(event: Any) -> None:
    """Safe to run twice a day or to retry: each step is conditioned on the state it read."""
    from aws_lambda_powertools.metrics import MetricUnit  # not at import: cold start

    container = get_container()
    run = container.inactivity_job().run()
    purged = container.retention_purge().run()
    metrics.add_metric(name="DossiersPurged", unit=MetricUnit.Count, value=purged)
    metrics.add_metric(name="InactiveAccountsWarned", unit=MetricUnit.Count, value=run.warned)
    metrics.add_metric(name="InactiveAccountsClosed", unit=MetricUnit.Count, value=run.closed)
    logger.info(
        "Retention run",
        extra={"warned": run.warned, "closed": run.closed, "kept": run.kept, "purged": purged},
    )
