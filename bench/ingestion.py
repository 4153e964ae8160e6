"""Funder file ingestion in process, storage faked: throughput of parse + validation, memory.

Budgets (docs/specs/performance.md): ≥ 20,000 lines/s of parse + validation on one core; peak memory
grows by < 50 MB on a 100,000-line file. Two throughput figures per kind of file: the bare reader
and validator (one pass), and the whole FunderFileIngestion with in-memory repositories (encoding
detection, the payments' grouping pass, content keys, batching: every pass over the file).
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from bench.fakes import FakeDossierRepository, FakeFunderRepository, FakePaymentRepository
from bench.figures import Budget, Figure, Line, Note, format_number
from bench.funder_file_data import (
    FUNDER_CODE,
    GeneratedFile,
    write_dossiers_file,
    write_payments_file,
)
from chalicelib.services.funder_files.csv_reading import UTF8, read_csv
from chalicelib.services.funder_files.dossier_rules import (
    DOSSIER_OPTIONAL_COLUMNS,
    DOSSIER_REQUIRED_COLUMNS,
    validate_dossier_row,
)
from chalicelib.services.funder_files.ingestion import FunderFileIngestion, locate
from chalicelib.services.funder_files.payment_rules import (
    PAYMENT_OPTIONAL_COLUMNS,
    PAYMENT_REQUIRED_COLUMNS,
    validate_payment_row,
)
from chalicelib.services.funder_files.report import FileReport
from chalicelib.services.funders.model import Funder

LINES = 100_000
REPEATS = 3  # throughput is the best of these: the machine's noise only ever slows a run down
THROUGHPUT_BUDGET = Budget("≥", 20_000)
MEMORY_BUDGET = Budget("<", 50, decimals=0)
MIB = 1024 * 1024
MB = 1_000_000  # the budget's unit


def _best_seconds(run: Callable[[], object], repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def _parse_and_validate_payments(file: GeneratedFile) -> None:
    content = read_csv(file.chunks(), UTF8, PAYMENT_REQUIRED_COLUMNS, PAYMENT_OPTIONAL_COLUMNS)
    rejected = sum(isinstance(validate_payment_row(line, row), list) for line, row in content.rows)
    if rejected != file.invalid_payments:
        raise AssertionError(f"{rejected} payment lines rejected, {file.invalid_payments} expected")


def _parse_and_validate_dossiers(file: GeneratedFile) -> None:
    content = read_csv(file.chunks(), UTF8, DOSSIER_REQUIRED_COLUMNS, DOSSIER_OPTIONAL_COLUMNS)
    rejected = sum(isinstance(validate_dossier_row(line, row), list) for line, row in content.rows)
    if rejected:
        raise AssertionError(f"{rejected} dossier lines rejected, none expected")


def _ingestion(
    dossiers: FakeDossierRepository, payments: FakePaymentRepository
) -> Callable[[GeneratedFile, str], FileReport]:
    engine = FunderFileIngestion(
        funders=FakeFunderRepository(Funder(FUNDER_CODE, "Région du banc d'essai")),
        dossiers=dossiers,
        payments=payments,
        clock=lambda: datetime.now(UTC),
    )

    def ingest(file: GeneratedFile, file_name: str) -> FileReport:
        incoming = locate(f"incoming/{FUNDER_CODE}/{file_name}")
        assert incoming is not None
        report = engine.ingest(incoming, file.chunks)
        report.close()
        return report

    return ingest


def check_payments_report(report: FileReport, file: GeneratedFile) -> None:
    counts = report.counts
    expected = (file.lines, file.payments - file.invalid_payments, 0, file.invalid_payments)
    got = (
        counts.lines_read,
        counts.payments_stored,
        counts.payments_skipped,
        counts.payments_rejected,
    )
    if report.file_error or got != expected:
        raise AssertionError(
            f"payments (read, stored, skipped, rejected) = {got}, expected {expected}; "
            f"file error: {report.file_error}"
        )


def check_dossiers_report(report: FileReport, file: GeneratedFile) -> None:
    counts = report.counts
    got = (counts.lines_read, counts.dossiers_created, counts.lines_rejected)
    if report.file_error or got != (file.lines, file.lines, 0):
        raise AssertionError(
            f"dossiers (read, created, rejected) = {got}, expected ({file.lines}, {file.lines}, 0);"
            f" file error: {report.file_error}"
        )


def _stored_dossiers(file: GeneratedFile) -> FakeDossierRepository:
    """A repository holding the dossiers of `file`, ingested through the real code."""
    dossiers = FakeDossierRepository()
    check_dossiers_report(
        _ingestion(dossiers, FakePaymentRepository())(file, "dossiers_existants.csv"), file
    )
    return dossiers


def _peak_growth_mb(run: Callable[[], object]) -> float:
    """tracemalloc's peak above what was allocated before `run` (which is excluded)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (peak - before) / MB


def _throughput(name: str, lines: int, seconds: float) -> Figure:
    return Figure(name, lines / seconds, "lines/s", THROUGHPUT_BUDGET)


def figures() -> Iterator[Line]:
    with tempfile.TemporaryDirectory(prefix="bench-ingestion-") as directory:
        folder = Path(directory)
        payments_file = write_payments_file(folder / "paiements_bench.csv", LINES)
        dossiers_file = write_dossiers_file(folder / "dossiers_bench.csv", LINES)
        payment_dossiers = write_dossiers_file(
            folder / "dossiers_des_paiements.csv", payments_file.dossiers
        )
        size = format_number(LINES)
        yield Note(
            f"generated files: paiements {format_number(payments_file.size_bytes / MIB, 1)} MiB "
            f"({format_number(payments_file.payments)} payments, "
            f"{payments_file.invalid_payments} with a wrong amount, "
            f"{format_number(payments_file.dossiers)} dossiers), "
            f"dossiers {format_number(dossiers_file.size_bytes / MIB, 1)} MiB; streamed from "
            f"disk in 256 KiB chunks; best of {REPEATS} runs"
        )

        seconds = _best_seconds(lambda: _parse_and_validate_payments(payments_file))
        yield _throughput(
            f"payments read_csv + validate_payment_row ({size} lines)", LINES, seconds
        )

        existing = _stored_dossiers(payment_dossiers)

        def ingest_payments(dossiers: FakeDossierRepository, remember: bool) -> None:
            ingest = _ingestion(dossiers, FakePaymentRepository(remember=remember))
            check_payments_report(ingest(payments_file, "paiements_bench.csv"), payments_file)

        seconds = _best_seconds(lambda: ingest_payments(existing, remember=True))
        yield _throughput(f"payments full ingestion, storage faked ({size} lines)", LINES, seconds)

        seconds = _best_seconds(lambda: _parse_and_validate_dossiers(dossiers_file))
        yield _throughput(
            f"dossiers read_csv + validate_dossier_row ({size} lines)", LINES, seconds
        )

        def ingest_dossiers() -> None:
            ingest = _ingestion(FakeDossierRepository(remember=False), FakePaymentRepository())
            check_dossiers_report(ingest(dossiers_file, "dossiers_bench.csv"), dossiers_file)

        seconds = _best_seconds(ingest_dossiers)
        yield _throughput(f"dossiers full ingestion, storage faked ({size} lines)", LINES, seconds)

        growth = _peak_growth_mb(lambda: ingest_payments(existing, remember=False))
        yield Figure(
            f"payments ingestion peak memory growth ({size} lines)",
            growth,
            "MB",
            MEMORY_BUDGET,
            decimals=1,
        )
        growth = _peak_growth_mb(ingest_dossiers)
        yield Figure(
            f"dossiers ingestion peak memory growth ({size} lines)",
            growth,
            "MB",
            MEMORY_BUDGET,
            decimals=1,
        )
