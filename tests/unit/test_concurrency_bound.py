"""The funder-files function's concurrency is bounded, within what AWS takes."""

from __future__ import annotations


def test_funder_files_run_at_most_a_few_at_once() -> None:
    import app as portal

    bounds = {
        source.name: source.maximum_concurrency
        for source in portal.app.event_sources
        if hasattr(source, "maximum_concurrency")  # SQS sources; a schedule has none
    }
    # AWS::Lambda::EventSourceMapping ScalingConfig.MaximumConcurrency: 2 to 1,000 (SQS only).
    # Concurrent runs are safe (conditional writes); the bound spares the trainees' capacity.
    assert bounds["funder_files"] == portal.FUNDER_FILES_CONCURRENCY
    assert 2 <= portal.FUNDER_FILES_CONCURRENCY <= 1000
