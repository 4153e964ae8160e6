"""Applies one funder file to the stored dossiers and payments, and reports on every line.

The file is read as a stream, several times if needed (encoding, then payment grouping, then
the real pass), so memory stays flat whatever its size. Storage is reached in batches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from chalicelib.services.accounts.model import Account
from chalicelib.services.formatting import paris_month
from chalicelib.services.funder_files.csv_reading import CsvFileError, detect_encoding, read_csv
from chalicelib.services.funder_files.dossier_rules import (
    DOSSIER_OPTIONAL_COLUMNS,
    DOSSIER_REQUIRED_COLUMNS,
    validate_dossier_row,
    withdrawal_number,
)
from chalicelib.services.funder_files.payment_rules import (
    PAYMENT_OPTIONAL_COLUMNS,
    PAYMENT_REQUIRED_COLUMNS,
    payment_content_key,
    validate_payment_row,
)
from chalicelib.services.funder_files.records import PaymentLineRecord, Rejection
from chalicelib.services.funder_files.report import FileReport
from chalicelib.services.funders.files import (
    INCOMING_PREFIX,
    REPORTS_PREFIX,
    UPLOAD_FOLDER,
    DashboardCounters,
)
from chalicelib.services.funders.model import FunderRepository
from chalicelib.services.mail.notifications import NewPayment, NotificationQueue
from chalicelib.services.trainings.account_linking import AccountLinker
from chalicelib.services.trainings.dossiers import (
    Dossier,
    DossierChange,
    DossierRepository,
    changed_fields,
    dossier_from_record,
)
from chalicelib.services.trainings.payments import (
    Payment,
    PaymentLine,
    PaymentRepository,
    StoredPayment,
)

if TYPE_CHECKING:
    from chalicelib.services.accounts.retention import DossierWithdrawal

ChunkSource = Callable[[], Iterable[bytes]]
"""Opens the file afresh at each call and yields its bytes; the same version every time."""

BATCH_SIZE = 100  # BatchGetItem takes 100 keys, TransactWriteItems 100 items
MAX_DOSSIER_ATTEMPTS = 5


class ConcurrentChanges(Exception):
    """Dossiers kept changing under the run: it fails, and its queue delivers it again."""


class FileKind(StrEnum):
    DOSSIERS = "dossiers"
    PAYMENTS = "paiements"


@dataclass(frozen=True)
class IncomingFile:
    key: str
    funder_code: str
    file_name: str
    upload_id: str | None = None  # a file sent from the portal: its upload's own folder

    def own_report_key(self, file_id: str) -> str:
        """Where this file's own report goes, the one its record points at (the funder space's
        report page, rejected lines and download read it): the one rule of it, the store keeps
        what it is given. A file sent from the portal has a folder of its own,
        `reports/<funder>/<upload id>/<name>.report.csv` (services/funders/uploads.py). A file
        dropped straight at `incoming/<funder>/<name>` (command line, a funder's own system)
        shares its key with every other drop of that name, so its own report goes under its
        file id, `reports/<funder>/<file id>/<name>.report.csv`: each drop is its own file
        record (its id comes from the S3 version ID, services/funders/files.py), and an earlier
        drop's page shows its own lines, not the latest drop's. The two folders never meet: an
        upload id is 32 hex digits, a file id starts with its date (`20261206T103005Z-…`). A
        redelivery of one file finds the same id, so rewrites the same report."""
        folder = self.upload_id or file_id
        return f"{REPORTS_PREFIX}{self.funder_code}/{folder}/{self.file_name}.report.csv"

    @property
    def latest_report_key(self) -> str | None:
        """For a file dropped straight at `incoming/<funder>/<name>`, the path that
        docs/specs/funder-files.md publishes and funders' systems read (« Every file gets a
        report at `reports/<funder_code>/<file name>.report.csv` »): it holds the latest drop's
        report, a second copy of its own one (an earlier drop run late writes none there:
        events/funder_files.py). None for a portal upload, whose own report is the only one."""
        if self.upload_id:
            return None
        return f"{REPORTS_PREFIX}{self.funder_code}/{self.file_name}.report.csv"

    @property
    def kind(self) -> FileKind | None:
        name = self.file_name.lower()
        if not name.endswith(".csv"):
            return None
        for kind in FileKind:
            if name.startswith(f"{kind.value}_"):
                return kind
        return None


def locate(key: str) -> IncomingFile | None:
    """`incoming/<funder_code>/<file name>`, or `incoming/<funder_code>/<upload id>/<file name>`
    for a file sent from the portal, → the file; anything else is not a funder file."""
    if not key.startswith(INCOMING_PREFIX):
        return None
    parts = key[len(INCOMING_PREFIX) :].split("/")
    upload_id = None
    if len(parts) == 3 and UPLOAD_FOLDER.fullmatch(parts[1]):
        upload_id = parts[1]
        parts = [parts[0], parts[2]]
    if len(parts) != 2 or not all(parts):
        return None
    funder_code, file_name = parts
    return IncomingFile(key=key, funder_code=funder_code, file_name=file_name, upload_id=upload_id)


class FunderFileIngestion:
    def __init__(
        self,
        funders: FunderRepository,
        dossiers: DossierRepository,
        payments: PaymentRepository,
        clock: Callable[[], datetime],
        batch_size: int = BATCH_SIZE,
        linker: AccountLinker | None = None,
        notifications: NotificationQueue | None = None,
        withdrawal: DossierWithdrawal | None = None,
        counters: DashboardCounters | None = None,
    ) -> None:
        self.funders = funders
        self.dossiers = dossiers
        self.payments = payments
        self.clock = clock
        self.batch_size = batch_size
        self.linker = linker
        self.notifications = notifications
        self.withdrawal = withdrawal
        self.counters = counters

    def count(self, funder_code: str, increments: dict[str, int]) -> None:
        """The funder's dashboard, after a write only one run can win (a dossier is created or
        withdrawn by a conditional write): concurrent or repeated runs never count it twice. A
        run that crashes between its write and this update leaves it uncounted."""
        if self.counters is not None and any(increments.values()):
            self.counters.add(funder_code, paris_month(self.clock()), increments)

    def ingest(self, incoming: IncomingFile, open_file: ChunkSource) -> FileReport:
        report = FileReport(file_key=incoming.key, processed_at=self.clock())
        if self.funders.get(incoming.funder_code) is None:
            report.reject_file(
                f"aucun financeur n'est configuré pour le code « {incoming.funder_code} »"
            )
            return report
        kind = incoming.kind
        if kind is None:
            report.reject_file(
                "nom de fichier non reconnu : attendu dossiers_*.csv ou paiements_*.csv"
            )
            return report
        try:
            encoding = detect_encoding(open_file())
            if kind is FileKind.DOSSIERS:
                _DossierRun(self, incoming, report).run(open_file, encoding)
            else:
                _PaymentRun(self, incoming, report).run(open_file, encoding)
        except CsvFileError as error:
            report.reject_file(error.reason)
        return report


class _DossierRun:
    def __init__(
        self, ingestion: FunderFileIngestion, incoming: IncomingFile, report: FileReport
    ) -> None:
        self._ingestion = ingestion
        self._incoming = incoming
        self._report = report
        self._first_seen: dict[str, int] = {}

    def run(self, open_file: ChunkSource, encoding: str) -> None:
        content = read_csv(
            open_file(), encoding, DOSSIER_REQUIRED_COLUMNS, DOSSIER_OPTIONAL_COLUMNS
        )
        self._report.extra_columns = content.extra_columns
        batch: list[Dossier] = []
        for line, row in content.rows:
            self._report.counts.lines_read += 1
            withdrawn = withdrawal_number(line, row)
            if withdrawn is not None:
                # Applied after the batch before it: a file may create then withdraw a dossier.
                if batch:
                    self._apply(batch)
                    batch = []
                self._withdraw(line, withdrawn)
                continue
            result = validate_dossier_row(line, row)
            if isinstance(result, list):
                for rejection in result:
                    self._report.reject(rejection)
                continue
            first_line = self._first_seen.setdefault(result.dossier_number, line)
            if first_line != line:
                self._report.reject(
                    Rejection(
                        line,
                        "numero_dossier",
                        f"dossier {result.dossier_number} déjà présent ligne {first_line} "
                        "du fichier",
                    )
                )
                continue
            batch.append(dossier_from_record(self._incoming.funder_code, result))
            if len(batch) >= self._ingestion.batch_size:
                self._apply(batch)
                batch = []
        if batch:
            self._apply(batch)

    def _withdraw(self, line: int, number: str | list[Rejection]) -> None:
        if isinstance(number, list):
            for rejection in number:
                self._report.reject(rejection)
            return
        first_line = self._first_seen.setdefault(number, line)
        if first_line != line:
            self._report.reject(
                Rejection(
                    line,
                    "numero_dossier",
                    f"dossier {number} déjà présent ligne {first_line} du fichier",
                )
            )
            return
        withdrawal = self._ingestion.withdrawal
        found = self._ingestion.dossiers.get_many(self._incoming.funder_code, [number])
        dossier = found.get(number)
        if dossier is None or withdrawal is None:
            # Also a retried run whose first try withdrew it: the report says so, nothing breaks.
            self._report.reject(
                Rejection(
                    line,
                    "numero_dossier",
                    f"dossier {number} inconnu pour ce financeur (déjà retiré ?) : rien à retirer",
                )
            )
            return
        # The dashboard's counts go with the dossier, in the store's deleting transaction.
        withdrawal.withdraw(dossier)
        self._report.counts.dossiers_withdrawn += 1

    def _apply(self, batch: list[Dossier]) -> None:
        # Each write is conditioned on the version read; one changed meanwhile (a trainee linked
        # it, a concurrent file updated it) is read again and judged afresh, until none is.
        pending = batch
        for _ in range(MAX_DOSSIER_ATTEMPTS):
            pending = self._apply_once(pending)
            if not pending:
                return
        raise ConcurrentChanges(
            f"{len(pending)} dossiers kept changing during the run; it will be retried"
        )

    def _apply_once(self, batch: list[Dossier]) -> list[Dossier]:
        """Applies the batch; the dossiers that changed since they were read, left unapplied."""
        existing = self._ingestion.dossiers.get_many(
            self._incoming.funder_code, [dossier.dossier_number for dossier in batch]
        )
        to_write: list[Dossier] = []
        changes: list[DossierChange] = []
        unchanged = 0
        for dossier in batch:
            stored = existing.get(dossier.dossier_number)
            line = self._first_seen[dossier.dossier_number]
            if stored is None:
                to_write.append(dossier)
                changes.append(DossierChange(dossier, {}, line=line, created=True))
            elif stored.content_hash == dossier.content_hash:
                unchanged += 1
            else:
                updated = dossier.with_account(stored.account_id)  # a funder file never unlinks
                to_write.append(updated)
                changes.append(DossierChange(updated, changed_fields(stored, updated), line=line))
        links: list[tuple[Account, Dossier]] = []
        if self._ingestion.linker is not None:
            to_write, links = self._ingestion.linker.attach(to_write)
        changed = (
            self._ingestion.dossiers.write_many(to_write, changes, self._incoming.key, existing)
            if to_write
            else set()
        )
        counts = self._report.counts
        counts.dossiers_unchanged += unchanged
        created = 0
        for dossier in to_write:
            if dossier.dossier_number in changed:
                continue
            if dossier.dossier_number in existing:
                counts.dossiers_updated += 1
            else:
                counts.dossiers_created += 1
                created += 1
        links = [
            (account, dossier)
            for account, dossier in links
            if dossier.dossier_number not in changed
        ]
        self._ingestion.count(
            self._incoming.funder_code, {"dossiers": created, "linked_accounts": len(links)}
        )
        if links and self._ingestion.linker is not None:
            self._ingestion.linker.confirm(links)
        return [dossier for dossier in batch if dossier.dossier_number in changed]


class _PaymentRun:
    def __init__(
        self, ingestion: FunderFileIngestion, incoming: IncomingFile, report: FileReport
    ) -> None:
        self._ingestion = ingestion
        self._incoming = incoming
        self._report = report
        self._owners: dict[str, str | None] = {}  # known dossier → its account, if any
        self._unknown: set[str] = set()

    def run(self, open_file: ChunkSource, encoding: str) -> None:
        # Lines of one payment need not be next to each other: count them first, so that a
        # payment is complete (and leaves memory) as soon as its last line is read.
        lines_per_reference = Counter(
            row.get("reference_paiement", "")
            for _, row in read_csv(
                open_file(), encoding, PAYMENT_REQUIRED_COLUMNS, PAYMENT_OPTIONAL_COLUMNS
            ).rows
        )
        content = read_csv(
            open_file(), encoding, PAYMENT_REQUIRED_COLUMNS, PAYMENT_OPTIONAL_COLUMNS
        )
        self._report.extra_columns = content.extra_columns
        pending: dict[str, list[tuple[int, PaymentLineRecord | list[Rejection]]]] = {}
        ready: list[tuple[Payment, list[int]]] = []
        for line, row in content.rows:
            self._report.counts.lines_read += 1
            reference = row.get("reference_paiement", "")
            result = validate_payment_row(line, row)
            if not reference:
                self._reject_lines([(line, result)], None)
                continue
            group = pending.setdefault(reference, [])
            group.append((line, result))
            if len(group) < lines_per_reference[reference]:
                continue
            del pending[reference]
            payment = self._assemble(reference, group)
            if payment is not None:
                ready.append((payment, [line for line, _ in group]))
            if len(ready) >= self._ingestion.batch_size:
                self._apply(ready)
                ready = []
        for reference, group in pending.items():  # only if the file changed under us
            self._reject_lines(group, f"paiement {reference} incomplet")
        if ready:
            self._apply(ready)

    def _reject_lines(
        self, group: list[tuple[int, PaymentLineRecord | list[Rejection]]], reason: str | None
    ) -> None:
        first_invalid = next((line for line, result in group if isinstance(result, list)), None)
        for line, result in group:
            if isinstance(result, list):
                for rejection in result:
                    self._report.reject(rejection)
            else:
                because = reason or f"la ligne {first_invalid} du même paiement est invalide"
                self._report.reject(
                    Rejection(
                        line, None, f"paiement {result.reference} rejeté en entier : {because}"
                    )
                )
        if reason is not None or first_invalid is not None:
            self._report.counts.payments_rejected += 1

    def _assemble(
        self, reference: str, group: list[tuple[int, PaymentLineRecord | list[Rejection]]]
    ) -> Payment | None:
        records = [result for _, result in group if not isinstance(result, list)]
        if len(records) < len(group):
            self._reject_lines(group, None)
            return None
        first = records[0]
        if any(record.dossier_number != first.dossier_number for record in records):
            self._reject_lines(group, "ses lignes portent des numéros de dossier différents")
            return None
        if any(record.payment_date != first.payment_date for record in records):
            self._reject_lines(
                group, "ses lignes portent des dates de mise en paiement différentes"
            )
            return None
        return Payment(
            funder_code=self._incoming.funder_code,
            reference=reference,
            dossier_number=first.dossier_number,
            payment_date=first.payment_date,
            lines=tuple(
                PaymentLine(
                    period_start=record.period_start,
                    period_end=record.period_end,
                    element=record.element,
                    label=record.label,
                    rate=record.rate,
                    days=record.days,
                    divisor=record.divisor,
                    amount=record.amount,
                )
                for record in sorted(records, key=lambda record: record.line)
            ),
            content_hash=payment_content_key(records),
        )

    def _reject_payment(self, payment: Payment, lines: list[int], column: str, reason: str) -> None:
        for line in lines:
            self._report.reject(Rejection(line, column, reason))
        self._report.counts.payments_rejected += 1

    def _apply(self, ready: list[tuple[Payment, list[int]]]) -> None:
        funder_code = self._incoming.funder_code
        to_check = sorted(
            {payment.dossier_number for payment, _ in ready} - self._owners.keys() - self._unknown
        )
        if to_check:
            found = self._ingestion.dossiers.get_many(funder_code, to_check)
            self._owners.update({number: dossier.account_id for number, dossier in found.items()})
            self._unknown.update(set(to_check) - set(found))
        stored = self._ingestion.payments.get_stored(
            funder_code, [payment.reference for payment, _ in ready]
        )
        to_write: list[Payment] = []
        to_notify: list[NewPayment] = []
        for payment, lines in self._judge(ready, stored, to_write):
            self._judge_stored(payment, lines, stored, to_notify)
        if to_write:
            present = self._ingestion.payments.write_many(to_write, self._incoming.key)
            self._report.counts.payments_stored += len(to_write) - len(present)
            # Stored by a concurrent run between our read and our write: judged as if that run
            # had come first, exactly like a sequential replay (skipped) or conflict (rejected).
            again = (
                self._ingestion.payments.get_stored(funder_code, sorted(present)) if present else {}
            )
            lines_of = {payment.reference: lines for payment, lines in ready}
            for payment in to_write:
                if payment.reference in present:
                    self._judge_stored(payment, lines_of[payment.reference], again, to_notify)
                elif self._owners.get(payment.dossier_number):
                    to_notify.append(NewPayment(funder_code, payment.reference))
        if to_notify and self._ingestion.notifications is not None:
            self._ingestion.notifications.enqueue(to_notify)

    def _judge(
        self,
        ready: list[tuple[Payment, list[int]]],
        stored: dict[str, StoredPayment],
        to_write: list[Payment],
    ) -> list[tuple[Payment, list[int]]]:
        """Sorts the payments: unknown dossier (rejected), new (to write), or already stored."""
        already: list[tuple[Payment, list[int]]] = []
        for payment, lines in ready:
            if payment.dossier_number in self._unknown:
                self._reject_payment(
                    payment,
                    lines,
                    "numero_dossier",
                    f"dossier {payment.dossier_number} inconnu pour ce financeur",
                )
                continue
            if payment.reference in stored:
                already.append((payment, lines))
            else:
                to_write.append(payment)
        return already

    def _judge_stored(
        self,
        payment: Payment,
        lines: list[int],
        stored: dict[str, StoredPayment],
        to_notify: list[NewPayment],
    ) -> None:
        """A reference already stored: the same content is skipped, another is a conflict."""
        previous = stored[payment.reference]
        if previous.content_hash != payment.content_hash:
            self._reject_payment(
                payment,
                lines,
                "reference_paiement",
                f"la référence {payment.reference} est déjà enregistrée avec un contenu "
                "différent : corrigez par un nouveau paiement REGULARISATION",
            )
            return
        self._report.counts.payments_skipped += 1
        # Also for a stored payment never notified: the run that stored it died before.
        if not previous.notified and self._owners.get(payment.dossier_number):
            to_notify.append(NewPayment(payment.funder_code, payment.reference))
