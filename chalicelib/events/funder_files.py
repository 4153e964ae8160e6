"""Funder files: SQS messages carrying S3 "object created" events (docs/specs/architecture.md, D4),
one file per run."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any
from urllib.parse import unquote_plus

from chalice.app import SQSEvent

from chalicelib.container import get_container, now
from chalicelib.observability import logger, metrics

IDEMPOTENCY_SECONDS = 7 * 24 * 3600


def s3_objects(message_id: str, message_body: str) -> Iterator[dict[str, str]]:
    """The objects an S3 notification names; S3's own test event names none."""
    payload = json.loads(message_body)
    for record in payload.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record["s3"]
        yield {
            "bucket": s3["bucket"]["name"],
            "key": unquote_plus(s3["object"]["key"]),
            "version_id": s3["object"].get("versionId") or "",
            "etag": s3["object"].get("eTag") or "",
            "sequencer": s3["object"].get("sequencer") or "",
            # With the rest, the idempotency key: SQS delivers a message at least once, and a
            # redelivery after a completed run must not run (nor rewrite the report) again.
            "message_id": message_id,
        }


def process_funder_file(s3_object: dict[str, str]) -> dict[str, Any]:
    """Applies one funder file and writes its report. Also what operators call to replay a file."""
    container = get_container()
    if s3_object["bucket"] != container.exchange.name:
        logger.warning("Object from another bucket ignored", extra={"bucket": s3_object["bucket"]})
        return {"ignored": "bucket"}
    # Imported here: the API function loads this module too (app.py) and never ingests a file.
    from chalicelib.services.funder_files.ingestion import locate

    incoming = locate(s3_object["key"])
    if incoming is None:
        logger.warning("Object outside incoming/<funder>/ ignored", extra={"key": s3_object["key"]})
        return {"ignored": "key"}
    # The file's status record (services/funders/files.py): « reçu » now, then « en cours », then
    # « traité » or « rejeté »; keyed by the object version, so a redelivery finds the same one,
    # and with it the same report key (decided by ingestion: `IncomingFile.report_key`).
    stored = container.exchange.stored_version(incoming.key, s3_object.get("version_id") or None)
    tracking = container.file_tracking
    record = tracking.received(
        incoming, stored.version, stored.last_modified, stored.metadata, now()
    )
    # Every record carries its own report key, set when it was received (decided by ingestion:
    # `IncomingFile.own_report_key`); a redelivery rewrites the report there.
    report_key = record.report_key or incoming.own_report_key(record.file_id)
    tracking.processing(record, now())
    report = container.funder_file_ingestion().ingest(
        incoming,
        lambda: container.exchange.opener(
            incoming.key, s3_object.get("version_id"), s3_object.get("etag")
        ),
    )
    # docs/specs/funder-files.md: the report at reports/<funder>/<name>.report.csv is the latest
    # file's, a second copy of its own. An earlier drop of the name whose run comes after a
    # later drop's (SQS keeps no order; a dead-letter redrive comes late) writes none over it:
    # the later version's own run writes (or wrote) the report there. Checked just before the
    # write, the window left is one HeadObject-to-PutObject, far shorter than the later drop's
    # whole run. The file's own report is written first and always: a run that stops between
    # the two writes is retried whole, and rewrites both.
    latest_key = incoming.latest_report_key
    superseded = False
    try:
        # A record received before each drop had its own report points at the spec's path: its
        # one write there keeps the guard.
        if report_key != latest_key:
            container.exchange.put_report(report_key, report.csv_chunks())
        if latest_key is not None:
            current = container.exchange.current_version(incoming.key)
            superseded = current is not None and current != stored.version
            if not superseded:
                container.exchange.put_report(latest_key, report.csv_chunks())
    finally:
        report.close()
    summary = report.summary()
    tracking.finished(
        record,
        now(),
        report.file_error,
        {name: int(value) for name, value in summary.items() if isinstance(value, int)},
    )
    _publish_metrics(incoming.funder_code, summary)
    # Nested: a key of the summary could otherwise clash with a LogRecord attribute.
    logger.info(
        "Funder file processed",
        # A superseded drop's report is its own only: the spec's path holds a later drop's.
        extra={
            "report": report_key,
            "latest_report": None if superseded else latest_key,
            "summary": summary,
        },
    )
    return summary


def _publish_metrics(funder_code: str, summary: dict[str, Any]) -> None:
    from aws_lambda_powertools.metrics import MetricUnit  # not at import: cold start

    metrics.add_dimension(name="funder", value=funder_code)
    metrics.add_metric(name="FunderFilesProcessed", unit=MetricUnit.Count, value=1)
    if summary["file_error"]:
        metrics.add_metric(name="FunderFilesRejected", unit=MetricUnit.Count, value=1)
    for name in (
        "lines_read",
        "lines_rejected",
        "dossiers_created",
        "dossiers_updated",
        "payments_stored",
        "payments_skipped",
        "payments_rejected",
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=summary[name])


@cache
def _idempotent_process() -> tuple[Any, Callable[..., dict[str, Any]]]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    settings = get_container().settings
    persistence = DynamoDBPersistenceLayer(table_name=settings.table_name("idempotency"))
    config = IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_SECONDS)
    function = idempotent_function(
        data_keyword_argument="s3_object", persistence_store=persistence, config=config
    )(process_funder_file)
    return config, function


def handle_funder_file_messages(event: SQSEvent) -> None:
    """A failure raises: SQS delivers the message again and, at last, to the dead-letter queue."""
    config, process = _idempotent_process()
    if event.context is not None:  # lets an interrupted run be retried once Lambda gave up on it
        config.register_lambda_context(event.context)
    for record in event:
        for s3_object in s3_objects(record.to_dict()["messageId"], record.body):
            process(s3_object=s3_object)


def reset_idempotency() -> None:
    _idempotent_process.cache_clear()
