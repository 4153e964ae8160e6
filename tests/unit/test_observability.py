"""The Powertools Logger and Metrics made on first use (chalicelib/observability.py): a request
that logs nothing never imports Powertools, and one that logs keeps its correlation id."""

from __future__ import annotations

import io
import json
import logging

from chalicelib.observability import SERVICE, LazyLogger, LazyMetrics


def test_the_correlation_id_set_before_the_logger_exists_is_in_its_first_log() -> None:
    logger = LazyLogger()
    logger.set_correlation_id("requete-1")
    assert logger._logger is None  # setting and reading the id makes nothing
    assert logger.get_correlation_id() == "requete-1"

    # Read through a handler and a level of our own, as tests/integration/test_logs_privacy.py
    # does: Powertools keeps the stream and level of the first logger of the service.
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)  # the first use: the Logger is made
    service_logger = logging.getLogger(SERVICE)
    level = service_logger.level
    service_logger.setLevel(logging.INFO)
    service_logger.addHandler(handler)
    try:
        logger.info("Something happened")
        logger.set_correlation_id(None)  # the next request starts without one
        logger.info("Later")
    finally:
        service_logger.removeHandler(handler)
        service_logger.setLevel(level)

    first, later = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "Something happened"
    assert first["correlation_id"] == "requete-1"
    assert later.get("correlation_id") is None


def test_metrics_have_nothing_to_flush_until_one_is_added() -> None:
    metrics = LazyMetrics()
    assert metrics.metric_set == {}
    assert metrics._metrics is None

    metrics.add_metric(name="Something", unit="Count", value=1)

    assert "Something" in metrics.metric_set
    metrics.clear_metrics()
