"""The per-file report a funder reads: counts first, then one row per rejected line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from tempfile import SpooledTemporaryFile

from chalicelib.services.funder_files.records import Rejection

REPORT_COLUMNS = ("rubrique", "ligne", "colonne", "detail")
# OWASP "CSV Injection": a cell that starts with one of these is a formula to a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
SPOOL_IN_MEMORY_BYTES = 1024 * 1024

COUNT_LABELS = {
    "lines_read": "Lignes lues",
    "lines_rejected": "Lignes rejetées",
    "dossiers_created": "Dossiers créés",
    "dossiers_updated": "Dossiers mis à jour",
    "dossiers_unchanged": "Dossiers inchangés",
    "dossiers_withdrawn": "Dossiers retirés du portail",
    "payments_stored": "Paiements enregistrés",
    "payments_skipped": "Paiements déjà enregistrés à l'identique",
    "payments_rejected": "Paiements rejetés",
}


def neutralise(value: object) -> object:
    """A text echoed from the funder's file (a column name, a value in a reason, the file name)
    loses its power as a formula: a leading single quote, as OWASP advises. Negative amounts get
    it too: `-12,00` and `-1+cmd|…` start alike, and telling a harmless number from a formula is
    where such filters get bypassed; the report is read by people, who still read -12,00.
    Our own counts and line numbers (int) are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _row(*cells: object) -> tuple[object, ...]:
    return tuple(neutralise(cell) for cell in cells)


@dataclass
class Counts:
    lines_read: int = 0
    lines_rejected: int = 0
    dossiers_created: int = 0
    dossiers_updated: int = 0
    dossiers_unchanged: int = 0
    dossiers_withdrawn: int = 0
    payments_stored: int = 0
    payments_skipped: int = 0
    payments_rejected: int = 0


@dataclass
class FileReport:
    file_key: str
    processed_at: datetime
    counts: Counts = field(default_factory=Counts)
    extra_columns: list[str] = field(default_factory=list)
    file_error: str | None = None
    # Rejections can be as many as the lines: spooled to disk past 1 MiB so memory stays flat.
    _rejections: SpooledTemporaryFile = field(
        default_factory=lambda: SpooledTemporaryFile(  # noqa: SIM115 - closed by close()
            max_size=SPOOL_IN_MEMORY_BYTES, mode="w+", encoding="utf-8", newline=""
        )
    )
    _rejected_lines: set[int] = field(default_factory=set)

    def reject(self, rejection: Rejection) -> None:
        if rejection.line is not None and rejection.line not in self._rejected_lines:
            self._rejected_lines.add(rejection.line)
            self.counts.lines_rejected += 1
        csv.writer(self._rejections, delimiter=";").writerow(
            _row("Rejet", rejection.line or "", rejection.column or "", rejection.reason)
        )

    def reject_file(self, reason: str) -> None:
        self.file_error = reason

    def summary(self) -> dict[str, object]:
        return {"file": self.file_key, "file_error": self.file_error, **asdict(self.counts)}

    def csv_chunks(self) -> Iterator[bytes]:
        """The report as UTF-8 with BOM, which spreadsheets open without garbling accents."""
        head = io.StringIO(newline="")
        writer = csv.writer(head, delimiter=";")
        writer.writerow(REPORT_COLUMNS)
        writer.writerow(_row("Fichier", "", "", self.file_key))
        writer.writerow(("Traité le", "", "", self.processed_at.strftime("%d/%m/%Y %H:%M:%S UTC")))
        if self.file_error:
            writer.writerow(_row("Fichier rejeté", "", "", self.file_error))
        else:
            for name, value in asdict(self.counts).items():
                writer.writerow((COUNT_LABELS[name], "", "", value))
            for column in self.extra_columns:
                writer.writerow(_row("Colonne ignorée", "", column, "colonne inconnue, ignorée"))
        yield ("\ufeff" + head.getvalue()).encode("utf-8")
        self._rejections.seek(0)
        while chunk := self._rejections.read(64 * 1024):
            yield chunk.encode("utf-8")

    def close(self) -> None:
        self._rejections.close()
