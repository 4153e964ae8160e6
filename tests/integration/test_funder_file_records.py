"""File status records written by the ingestion path under moto: a file dropped by the command
line appears with « dépôt direct », a redelivered S3 event changes nothing, a rejected file keeps
its reason, the dashboard counts each file once."""

from __future__ import annotations

import json

import boto3
import pytest

from chalicelib.container import get_container
from chalicelib.events.funder_files import process_funder_file
from chalicelib.services.formatting import paris_month
from chalicelib.services.funders.files import DIRECT_DEPOSIT, FileRecord, FileStatus, file_id_for
from chalicelib.services.funders.model import Funder, save_funder
from tests.support.aws import drop, run_queue

PAYMENTS = (
    b"numero_dossier;reference_paiement;date_mise_en_paiement;periode_debut;periode_fin;element;"
    b"montant\nINCONNU;P-1;20/03/2018;16/10/2017;31/10/2017;REMUNERATION;144,85\n"
)


@pytest.fixture
def funder(aws: dict[str, str]) -> None:
    save_funder(get_container().funders, Funder("region-idf", "Région Île-de-France"))
    save_funder(get_container().funders, Funder("region-hdf", "Région Hauts-de-France"))


def test_a_file_dropped_by_the_command_line_is_followed_to_its_end(funder: None) -> None:
    drop("region-idf", "paiements_12.csv", PAYMENTS)
    drop("region-idf", "notes.txt", b"hello")
    run_queue()
    files = get_container().funder_files.list("region-idf")
    by_name = {record.file_name: record for record in files}
    done = by_name["paiements_12.csv"]
    assert done.status is FileStatus.DONE and done.sender == DIRECT_DEPOSIT
    assert done.counts["lines_read"] == 1 and done.counts["lines_rejected"] == 1
    rejected = by_name["notes.txt"]
    assert rejected.status is FileStatus.REJECTED and "nom de fichier non reconnu" in (
        rejected.reason or ""
    )
    view = get_container().funder_files.report("region-idf", done.file_id)
    assert view is not None and [line.column for line in view.lines] == ["numero_dossier"]
    assert get_container().funder_files.list("region-hdf") == []
    total, _ = get_container().dashboard_counters.read("region-idf", paris_month(done.received_at))
    assert total["files"] == 2 and total["lines_rejected"] == 1


def test_a_redelivered_event_keeps_one_record_and_counts_once(funder: None) -> None:
    key = drop("region-idf", "paiements_12.csv", PAYMENTS)
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=get_container().settings.funder_files_queue)["QueueUrl"]
    message = sqs.receive_message(QueueUrl=url)["Messages"][0]
    s3 = json.loads(message["Body"])["Records"][0]["s3"]
    s3_object = {
        "bucket": s3["bucket"]["name"],
        "key": key,
        "version_id": s3["object"].get("versionId") or "",
        "etag": s3["object"].get("eTag") or "",
        "sequencer": s3["object"].get("sequencer") or "",
    }
    process_funder_file(s3_object)
    process_funder_file({**s3_object, "sequencer": "a second copy of the event"})
    files = get_container().funder_files.list("region-idf")
    assert len(files) == 1 and files[0].status is FileStatus.DONE
    total, _ = get_container().dashboard_counters.read(
        "region-idf", paris_month(files[0].received_at)
    )
    assert total["files"] == 1 and total["lines_rejected"] == 1


TWO_LINES = PAYMENTS + b"AUTRE;P-2;20/03/2018;16/10/2017;31/10/2017;REMUNERATION;144,85\n"


def test_two_uploads_of_the_same_name_at_the_same_instant_get_a_record_and_report_each(
    funder: None,
) -> None:
    """Two members send `paiements_12.csv` at the same instant (one line, then two lines).
    Under one key per name, S3 kept both as versions of one object and both records shared one
    report key: the first file's report was overwritten by the second's. Each upload now writes
    its own object, so each file has its own record and its own report."""
    from tests.support.concurrency import atomic_requests, run_together

    container = get_container()
    uploads = [
        container.funder_uploads.prepare("region-idf", "paiements_12.csv", who, None)
        for who in ("alix@region-idf.fr", "yanis@region-idf.fr")
    ]
    assert uploads[0].key != uploads[1].key
    with atomic_requests():
        run_together(
            lambda: container.exchange.put(uploads[0].key, PAYMENTS),
            lambda: container.exchange.put(uploads[1].key, TWO_LINES),
        )
    run_queue()
    records = [
        r for r in container.funder_files.list("region-idf") if r.key in {u.key for u in uploads}
    ]
    assert len(records) == 2 and len({r.report_key for r in records}) == 2
    by_key = {record.key: record for record in records}
    for upload, lines in ((uploads[0], 1), (uploads[1], 2)):
        record = by_key[upload.key]
        assert record.file_name == "paiements_12.csv" and record.status is FileStatus.DONE
        assert record.counts["lines_read"] == lines
        view = container.funder_files.report("region-idf", record.file_id)
        assert view is not None and view.total_rejected == lines


def test_two_drops_of_the_same_name_are_two_files_and_the_spec_path_has_the_latest_report(
    funder: None,
) -> None:
    """`paiements_x.csv` dropped twice straight under `incoming/<funder>/` (the command line, a
    funder's own system): one key, two PUTs. S3 gives every PUT to a versioning-enabled bucket a
    unique version ID (the exchange bucket is one: infra/template.yaml, pinned by
    tests/integration/test_infra.py), so each drop is its own record. The report goes where
    docs/specs/funder-files.md publishes it, `reports/<funder>/<name>.report.csv`, which funders'
    systems read: the second drop's report replaces the first's there. Each record points at its
    own report, under its file id, which the spec's path does not replace."""
    container = get_container()
    drop("region-idf", "paiements_x.csv", PAYMENTS)
    run_queue()
    drop("region-idf", "paiements_x.csv", TWO_LINES)
    run_queue()

    records = [
        r for r in container.funder_files.list("region-idf") if r.file_name.endswith("x.csv")
    ]
    assert len(records) == 2 and all(r.status is FileStatus.DONE for r in records)
    assert len({r.file_id for r in records}) == 2
    assert sorted(r.counts["lines_read"] for r in records) == [1, 2]
    # Written out, not derived: the test fails if the path moves again.
    spec_path = "reports/region-idf/paiements_x.csv.report.csv"
    text = container.exchange.read(spec_path).decode("utf-8-sig")
    assert "Lignes lues;;;2" in text and text.count("\nRejet;") == 2  # the second drop's
    for record in records:
        assert (
            record.report_key == f"reports/region-idf/{record.file_id}/paiements_x.csv.report.csv"
        )
        own = container.exchange.read(record.report_key).decode("utf-8-sig")
        assert f"Lignes lues;;;{record.counts['lines_read']}" in own
    listed = boto3.client("s3").list_objects_v2(
        Bucket=container.exchange.name, Prefix="reports/region-idf/"
    )
    assert sorted(item["Key"] for item in listed.get("Contents", [])) == sorted(
        [spec_path, *(r.report_key for r in records)]
    )


def test_a_redelivered_drop_writes_no_second_record_and_the_same_report(funder: None) -> None:
    """The same object delivered twice (SQS redelivers; an operator replays it): one record, one
    report key of its own and the spec's path, both rewritten in place."""
    key = drop("region-idf", "paiements_x.csv", PAYMENTS)
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=get_container().settings.funder_files_queue)["QueueUrl"]
    message = sqs.receive_message(QueueUrl=url)["Messages"][0]
    s3 = json.loads(message["Body"])["Records"][0]["s3"]
    s3_object = {
        "bucket": s3["bucket"]["name"],
        "key": key,
        # S3 names the version in the event of a versioned bucket; moto's events leave it out.
        "version_id": s3["object"].get("versionId")
        or get_container().exchange.head(key)["VersionId"],
        "etag": s3["object"].get("eTag") or "",
        "sequencer": s3["object"].get("sequencer") or "",
    }
    process_funder_file(s3_object)
    [first] = get_container().funder_files.list("region-idf")
    process_funder_file({**s3_object, "sequencer": "a second copy of the event"})
    [again] = get_container().funder_files.list("region-idf")
    assert again.file_id == first.file_id
    own = f"reports/region-idf/{first.file_id}/paiements_x.csv.report.csv"
    assert again.report_key == first.report_key == own
    keys = boto3.client("s3").list_objects_v2(
        Bucket=get_container().exchange.name, Prefix="reports/region-idf/"
    )
    assert {item["Key"] for item in keys.get("Contents", [])} == {
        "reports/region-idf/paiements_x.csv.report.csv",
        own,
    }


def _event_of(key: str, version_id: str) -> dict[str, str]:
    """The S3 object an event names, version included as S3 names it for a versioned bucket
    (moto's notifications leave it out)."""
    return {
        "bucket": get_container().exchange.name,
        "key": key,
        "version_id": version_id,
        "etag": "",
        "sequencer": f"event-of-{version_id}",
    }


def test_an_earlier_drop_run_after_a_later_one_leaves_the_later_report_at_the_spec_path(
    funder: None,
) -> None:
    """SQS keeps no order and a dead-letter redrive comes late: the first drop of
    `paiements_x.csv` processed after the second is still its own file, but must not put its
    report over the second's, the latest file's (docs/specs/funder-files.md). Without the check
    the spec path held the first drop's report (« Lignes lues;;;1 »)."""
    container = get_container()
    key = drop("region-idf", "paiements_x.csv", PAYMENTS)
    first = container.exchange.head(key)["VersionId"]
    drop("region-idf", "paiements_x.csv", TWO_LINES)
    second = container.exchange.head(key)["VersionId"]
    assert first != second

    process_funder_file(_event_of(key, second))
    process_funder_file(_event_of(key, first))

    records = container.funder_files.list("region-idf")
    assert sorted(r.counts["lines_read"] for r in records) == [1, 2]
    assert all(r.status is FileStatus.DONE for r in records)
    text = container.exchange.read("reports/region-idf/paiements_x.csv.report.csv")
    assert "Lignes lues;;;2" in text.decode("utf-8-sig")
    # The late drop still has its own report, which its page shows.
    for record in records:
        assert record.report_key is not None
        own = container.exchange.read(record.report_key).decode("utf-8-sig")
        assert f"Lignes lues;;;{record.counts['lines_read']}" in own


def test_a_drop_whose_key_was_deleted_since_still_writes_its_report(funder: None) -> None:
    """No later drop to leave the path to: HeadObject of the key answers 404 (moto; 403 in AWS
    to a role without s3:ListBucket, tests/unit/test_exchange_bucket.py) and the report is
    written."""
    container = get_container()
    key = drop("region-idf", "paiements_x.csv", PAYMENTS)
    version = container.exchange.head(key)["VersionId"]
    boto3.client("s3").delete_object(Bucket=container.exchange.name, Key=key)  # a delete marker

    process_funder_file(_event_of(key, version))

    text = container.exchange.read("reports/region-idf/paiements_x.csv.report.csv")
    assert "Lignes lues;;;1" in text.decode("utf-8-sig")


def test_a_file_received_before_drops_had_their_own_reports_keeps_the_spec_paths_guard(
    funder: None,
) -> None:
    """A record stored before each drop had its own report points at the spec's path. Its late
    run (a redrive from the dead-letter queue) writes only there, and only as the current
    version: the later drop's report stays."""
    container = get_container()
    spec_path = "reports/region-idf/paiements_x.csv.report.csv"
    key = drop("region-idf", "paiements_x.csv", PAYMENTS)
    first = container.exchange.stored_version(key, container.exchange.head(key)["VersionId"])
    legacy = FileRecord(
        funder_code="region-idf",
        file_id=file_id_for(key, first.version, first.last_modified),
        file_name="paiements_x.csv",
        key=key,
        status=FileStatus.RECEIVED,
        received_at=first.last_modified,
        updated_at=first.last_modified,
        report_key=spec_path,
    )
    assert container.file_records.receive(legacy)
    drop("region-idf", "paiements_x.csv", TWO_LINES)
    second = container.exchange.head(key)["VersionId"]

    process_funder_file(_event_of(key, second))
    process_funder_file(_event_of(key, first.version))

    stored = container.funder_files.get("region-idf", legacy.file_id)
    assert stored.report_key == spec_path and stored.status is FileStatus.DONE
    text = container.exchange.read(spec_path).decode("utf-8-sig")
    assert "Lignes lues;;;2" in text
    listed = boto3.client("s3").list_objects_v2(
        Bucket=container.exchange.name, Prefix="reports/region-idf/"
    )
    [newer] = [r for r in container.funder_files.list("region-idf") if r.file_id != legacy.file_id]
    assert {item["Key"] for item in listed.get("Contents", [])} == {spec_path, newer.report_key}
