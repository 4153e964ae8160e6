"""The Powertools Logger and Metrics made on first use (chalicelib/observability.py): a request
that logs nothing never imports Powertools, and one that logs keeps its correlation id."""

from __future__ import annotations

import json

import pytest

from chalicelib.observability import LazyLogger, LazyMetrics


def test_the_correlation_id_set_before_the_logger_exists_is_in_its_first_log(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger = LazyLogger()
    logger.set_correlation_id("requete-1")
    assert logger._logger is None  # setting and reading the id makes nothing
    assert logger.get_correlation_id() == "requete-1"

    logger.info("Something happened")

    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert line["message"] == "Something happened"
    assert line["correlation_id"] == "requete-1"
    logger.set_correlation_id(None)  # the next request starts without one
    logger.info("Later")
    assert "correlation_id" not in json.loads(capsys.readouterr().out.splitlines()[-1])


def test_metrics_have_nothing_to_flush_until_one_is_added() -> None:
    metrics = LazyMetrics()
    assert metrics.metric_set == {}
    assert metrics._metrics is None

    metrics.add_metric(name="Something", unit="Count", value=1)

    assert "Something" in metrics.metric_set
    metrics.clear_metrics()
