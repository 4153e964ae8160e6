"""A funder's files and their follow-up: « reçu », « en cours », « traité » (with the counts) or
« rejeté » (with the reason), who sent each one, when and from where.

The records are written by the ingestion path itself (events/funder_files.py calls
`FileTracking`), so a file dropped by the command line or a funder's own system appears in the
list like one sent from the browser.

Idempotence: a file's id is derived from what S3 says of the object version (its key, version id
and last-modified time), never drawn at random, so an SQS redelivery or two concurrent copies of
the same S3 event address the same record. « reçu » is a put-if-absent (a redelivery leaves the
first one); the later states are plain overwrites of the same item, which two concurrent runs of
the same file end in the same place (their stored result is the same, services/funder_files).
The dashboard counts a file once, by a marker written in the same transaction as the counters
(`FileRecordRepository.count_once`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from chalicelib.services.errors import Invalid, NotFound
from chalicelib.services.formatting import paris_month

INCOMING_PREFIX = "incoming/"
REPORTS_PREFIX = "reports/"
# A file sent from the portal (browser or API) lands in a folder of its own under the funder's
# prefix, `incoming/<funder>/<upload id>/<file name>`: two uploads of the same name, even at the
# same instant, are two objects, two records and two reports (services/funders/uploads.py).
UPLOAD_FOLDER = re.compile(r"^[0-9a-f]{32}$")
DIRECT_DEPOSIT = "dépôt direct"
# Object metadata the presigned POST pins (x-amz-meta-…): who sent it from the browser or API.
SENDER_METADATA = "sender"
CLIENT_IP_METADATA = "client-ip"
LIST_LIMIT = 50


class FileStatus(StrEnum):
    RECEIVED = "reçu"
    PROCESSING = "en cours"
    DONE = "traité"
    REJECTED = "rejeté"


@dataclass(frozen=True)
class FileRecord:
    funder_code: str
    file_id: str
    file_name: str
    key: str
    status: FileStatus
    received_at: datetime
    updated_at: datetime
    sender: str = DIRECT_DEPOSIT
    sender_ip: str | None = None
    reason: str | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    report_key: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in (FileStatus.DONE, FileStatus.REJECTED)


class FileRecordRepository(Protocol):
    def receive(self, record: FileRecord) -> bool:
        """Stores the « reçu » record unless it exists (False then)."""
        ...

    def set_status(
        self,
        funder_code: str,
        file_id: str,
        status: FileStatus,
        when: datetime,
        reason: str | None = None,
        counts: Mapping[str, int] | None = None,
    ) -> None: ...

    def get(self, funder_code: str, file_id: str) -> FileRecord | None: ...

    def latest(self, funder_code: str, limit: int) -> list[FileRecord]:
        """Newest first, at most `limit` (one Query)."""
        ...


class DashboardCounters(Protocol):
    def add(self, funder_code: str, month: str, increments: Mapping[str, int]) -> None:
        """Atomic ADDs on the funder's totals and `month`'s, for a write that is itself
        exactly-once (a conditional write that only one run wins)."""
        ...

    def count_once(
        self, funder_code: str, marker: str, month: str, increments: Mapping[str, int]
    ) -> bool:
        """Adds `increments` to the funder's totals and to `month`'s, in one transaction with a
        put-if-absent `marker`: False (nothing added) when the marker exists already."""
        ...


def file_id_for(key: str, version: str, last_modified: datetime) -> str:
    """Sortable by time (newest first in a Query), the same for every delivery of one version,
    another for every other version (each PUT has its own S3 version ID)."""
    digest = hashlib.sha256(f"{key}\n{version}".encode()).hexdigest()[:16]
    return f"{last_modified:%Y%m%dT%H%M%S}Z-{digest}"


class ReceivedFile(Protocol):
    """The file as ingestion locates it (services/funder_files/ingestion.py, `IncomingFile`),
    which also decides where its report goes."""

    @property
    def key(self) -> str: ...
    @property
    def funder_code(self) -> str: ...
    @property
    def file_name(self) -> str: ...
    def own_report_key(self, file_id: str) -> str: ...


class FileTracking:
    """What the ingestion path writes about each file."""

    def __init__(self, records: FileRecordRepository, counters: DashboardCounters) -> None:
        self._records = records
        self._counters = counters

    def received(
        self,
        incoming: ReceivedFile,
        version: str,
        last_modified: datetime,
        metadata: Mapping[str, str],
        now: datetime,
    ) -> FileRecord:
        """The « reçu » record of one version of the object, with its own report key as ingestion
        decides it; a redelivery gets the record (and so the report key) stored the first time."""
        file_id = file_id_for(incoming.key, version, last_modified)
        record = FileRecord(
            funder_code=incoming.funder_code,
            file_id=file_id,
            file_name=incoming.file_name,
            key=incoming.key,
            status=FileStatus.RECEIVED,
            received_at=last_modified,
            updated_at=now,
            sender=(metadata.get(SENDER_METADATA) or DIRECT_DEPOSIT)[:200],
            sender_ip=(metadata.get(CLIENT_IP_METADATA) or None),
            report_key=incoming.own_report_key(file_id),
        )
        if not self._records.receive(record):  # a redelivery: the first record stays
            return self._records.get(incoming.funder_code, record.file_id) or record
        return record

    def processing(self, record: FileRecord, now: datetime) -> None:
        self._records.set_status(record.funder_code, record.file_id, FileStatus.PROCESSING, now)

    def finished(
        self,
        record: FileRecord,
        now: datetime,
        file_error: str | None,
        counts: Mapping[str, int],
    ) -> None:
        if file_error:
            self._records.set_status(
                record.funder_code, record.file_id, FileStatus.REJECTED, now, reason=file_error
            )
        else:
            self._records.set_status(
                record.funder_code, record.file_id, FileStatus.DONE, now, counts=dict(counts)
            )
        self._counters.count_once(
            record.funder_code,
            f"file#{record.file_id}",
            paris_month(record.received_at),
            {"files": 1, "lines_rejected": 0 if file_error else int(counts["lines_rejected"])},
        )


@dataclass(frozen=True)
class RejectedLine:
    line: str
    column: str
    reason: str


@dataclass(frozen=True)
class ReportView:
    record: FileRecord
    lines: list[RejectedLine]
    total_rejected: int
    columns: list[str]
    csv_url: str | None = None  # once the file is processed


def rejected_lines(report_csv: Iterable[str]) -> list[RejectedLine]:
    """The « Rejet » rows of a report as written by services/funder_files/report.py."""
    rows = csv.reader(report_csv, delimiter=";")
    lines = []
    for row in rows:
        if len(row) >= 4 and row[0] == "Rejet":
            lines.append(RejectedLine(row[1], row[2], row[3]))
    return lines


class ReportReader(Protocol):
    def report_text(self, key: str) -> str | None: ...

    def presigned_get(self, key: str, file_name: str, expires_in: int = 300) -> str:
        """A short link to download the object under `file_name` (no file through API Gateway:
        docs/specs/architecture.md, D9)."""
        ...


MAX_SHOWN_LINES = 500
MAX_FILTER_LENGTH = 100
FILTER_TOO_LONG = f"Ce paramètre dépasse {MAX_FILTER_LENGTH} caractères."
FILE_NOT_FOUND = "Ce fichier n’existe pas pour votre financeur."


class FunderFiles:
    """What a funder's staff (pages) and systems (API) read. Every call takes the funder's code
    from the authenticated caller: another funder's file is answered like a missing one."""

    def __init__(self, records: FileRecordRepository, reports: ReportReader) -> None:
        self._records = records
        self._reports = reports

    def list(self, funder_code: str, limit: int = LIST_LIMIT) -> list[FileRecord]:
        return self._records.latest(funder_code, limit)

    def get(self, funder_code: str, file_id: str) -> FileRecord:
        """The funder's file; NotFound for a missing one and another funder's alike."""
        record = self._records.get(funder_code, file_id) if 0 < len(file_id) <= 64 else None
        if record is None:
            raise NotFound(FILE_NOT_FOUND)
        return record

    def report_link(self, funder_code: str, file_id: str) -> str:
        """The link to the report's CSV, issued after the ownership check; NotFound until the
        file is processed."""
        link = self._csv_link(self.get(funder_code, file_id))
        if link is None:
            raise NotFound(FILE_NOT_FOUND)
        return link

    def _csv_link(self, record: FileRecord) -> str | None:
        if not (record.finished and record.report_key):
            return None
        return self._reports.presigned_get(record.report_key, f"{record.file_name}.report.csv")

    def report(
        self, funder_code: str, file_id: str, column: str = "", reason: str = ""
    ) -> ReportView:
        """The file's rejected lines, those of `column` and whose reason contains `reason`;
        Invalid for a filter longer than MAX_FILTER_LENGTH, NotFound as `get`."""
        too_long = {
            name: FILTER_TOO_LONG
            for name, value in (("column", column), ("reason", reason))
            if len(value) > MAX_FILTER_LENGTH
        }
        if too_long:
            raise Invalid(too_long, code="invalid_request")
        record = self.get(funder_code, file_id)
        text = self._reports.report_text(record.report_key) if record.report_key else None
        lines = rejected_lines(io.StringIO(text.lstrip("\ufeff"))) if text else []
        columns = sorted({line.column for line in lines if line.column})
        wanted = reason.strip().casefold()
        shown = [
            line
            for line in lines
            if (not column or line.column == column)
            and (not wanted or wanted in line.reason.casefold())
        ]
        return ReportView(
            record, shown[:MAX_SHOWN_LINES], len(shown), columns, self._csv_link(record)
        )
