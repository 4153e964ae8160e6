"""The follow-up of a funder's files: status records written by ingestion, reports read back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.services.errors import Invalid, NotFound
from chalicelib.services.funder_files.ingestion import locate
from chalicelib.services.funders.files import (
    DIRECT_DEPOSIT,
    FileStatus,
    FileTracking,
    FunderFiles,
    file_id_for,
)
from tests.support.funder_fakes import MemoryDashboardCounters, MemoryFileRecords, MemoryReports

MODIFIED = datetime(2026, 12, 6, 10, 30, 5, tzinfo=UTC)
NOW = datetime(2026, 12, 6, 10, 30, 9, tzinfo=UTC)
COUNTS = {"lines_read": 3, "lines_rejected": 1, "payments_stored": 2}


KEY = "incoming/region-idf/paiements_12.csv"


def receive(
    tracking: FileTracking,
    metadata: dict[str, str] | None = None,
    version: str = "v1",
    key: str = KEY,
):
    incoming = locate(key)
    assert incoming is not None
    return tracking.received(incoming, version, MODIFIED, metadata or {}, NOW)


def test_a_file_goes_received_processing_done_with_its_counts_and_is_counted_once() -> None:
    records, counters = MemoryFileRecords(), MemoryDashboardCounters()
    tracking = FileTracking(records, counters)
    record = receive(tracking)
    assert record.sender == DIRECT_DEPOSIT and record.sender_ip is None
    tracking.processing(record, NOW)
    tracking.finished(record, NOW, None, COUNTS)
    # SQS delivers the same event again: same id, the record stays one, counted once.
    again = receive(tracking)
    assert again.file_id == record.file_id
    tracking.processing(again, NOW)
    tracking.finished(again, NOW, None, COUNTS)
    assert records.statuses == [
        FileStatus.RECEIVED,
        FileStatus.PROCESSING,
        FileStatus.DONE,
        FileStatus.PROCESSING,
        FileStatus.DONE,
    ]
    stored = records.get("region-idf", record.file_id)
    assert stored is not None and stored.status is FileStatus.DONE
    assert stored.counts["payments_stored"] == 2
    total, month = counters.read("region-idf", "2026-12")
    assert total == month == {"files": 1, "lines_rejected": 1}


def test_a_rejected_file_keeps_its_reason_and_the_sender_from_the_upload() -> None:
    records, counters = MemoryFileRecords(), MemoryDashboardCounters()
    tracking = FileTracking(records, counters)
    record = receive(tracking, {"sender": "agent@region-idf.fr", "client-ip": "203.0.113.9"})
    tracking.finished(record, NOW, "colonne obligatoire absente : montant", {})
    stored = records.get("region-idf", record.file_id)
    assert stored is not None and stored.status is FileStatus.REJECTED
    assert stored.reason == "colonne obligatoire absente : montant"
    assert (stored.sender, stored.sender_ip) == ("agent@region-idf.fr", "203.0.113.9")


def test_each_drop_of_one_name_is_its_own_file_with_its_own_report() -> None:
    """Dropped straight at incoming/<funder>/<name>, one key for every drop: each version is
    its own file (S3 gives each PUT its own version ID) and its record points at its own report,
    under its file id (the spec's path, a copy of the latest drop's, is no record's: it changes
    hands). The same version delivered again finds its record."""
    records = MemoryFileRecords()
    tracking = FileTracking(records, MemoryDashboardCounters())
    first, second = receive(tracking, version="v1"), receive(tracking, version="v2")
    assert first.file_id != second.file_id
    for record in (first, second):
        own = f"reports/region-idf/{record.file_id}/paiements_12.csv.report.csv"
        assert record.report_key == own
    again = receive(tracking, version="v1")
    assert (again.file_id, again.report_key) == (first.file_id, first.report_key)
    assert len(records.items) == 2


def test_a_portal_upload_keeps_its_report_in_its_upload_folder() -> None:
    upload = "0123456789abcdef0123456789abcdef"
    record = receive(
        FileTracking(MemoryFileRecords(), MemoryDashboardCounters()),
        key=f"incoming/region-idf/{upload}/paiements_12.csv",
    )
    assert record.report_key == f"reports/region-idf/{upload}/paiements_12.csv.report.csv"
    # Its own folder already: no second copy at a shared path.
    incoming = locate(f"incoming/region-idf/{upload}/paiements_12.csv")
    assert incoming is not None and incoming.latest_report_key is None


def test_a_direct_drop_also_reports_at_the_spec_path() -> None:
    """docs/specs/funder-files.md: `reports/<funder_code>/<file name>.report.csv`, written out
    so that the test fails if the path moves."""
    incoming = locate(KEY)
    assert incoming is not None
    assert incoming.latest_report_key == "reports/region-idf/paiements_12.csv.report.csv"


def test_the_store_keeps_the_report_key_it_is_given() -> None:
    """No rule of its own: a record is stored with the key ingestion decided."""
    records = MemoryFileRecords()
    record = receive(FileTracking(records, MemoryDashboardCounters()))
    assert records.get("region-idf", record.file_id).report_key == record.report_key  # type: ignore[union-attr]


def test_a_new_version_of_the_same_name_is_another_file() -> None:
    assert file_id_for("k", "v1", MODIFIED) != file_id_for("k", "v2", MODIFIED)
    assert file_id_for("k", "v1", MODIFIED) == file_id_for("k", "v1", MODIFIED)
    assert file_id_for("k", "v1", MODIFIED).startswith("20261206T103005Z-")


def test_the_report_lists_rejected_lines_filtered_and_another_funder_sees_nothing() -> None:
    records, reports = MemoryFileRecords(), MemoryReports()
    tracking = FileTracking(records, MemoryDashboardCounters())
    record = receive(tracking)
    assert record.report_key is not None
    reports.texts[record.report_key] = (
        "\ufeffrubrique;ligne;colonne;detail\r\nLignes lues;;;3\r\n"
        "Rejet;2;montant;le montant ne correspond pas au calcul\r\n"
        "Rejet;3;numero_dossier;dossier inconnu pour ce financeur\r\n"
    )
    files = FunderFiles(records, reports)
    view = files.report("region-idf", record.file_id)
    assert view is not None and view.total_rejected == 2
    assert view.columns == ["montant", "numero_dossier"]
    assert [line.line for line in files.report("region-idf", record.file_id, "montant").lines] == [
        "2"
    ]
    by_reason = files.report("region-idf", record.file_id, reason="DOSSIER INCONNU")
    assert by_reason is not None and [line.line for line in by_reason.lines] == ["3"]
    for other_funders in (files.report, files.get, files.report_link):
        with pytest.raises(NotFound):
            other_funders("region-hdf", record.file_id)
    with pytest.raises(NotFound):  # not processed yet: no report to download
        files.report_link("region-idf", record.file_id)
    with pytest.raises(Invalid) as refused:
        files.report("region-idf", record.file_id, "c" * 101)
    assert list(refused.value.errors) == ["column"]
    assert [r.file_id for r in files.list("region-idf")] == [record.file_id]
    assert files.list("region-hdf") == []
