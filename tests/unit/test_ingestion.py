"""The ingestion service with in-memory repositories: grouping, all-or-nothing, replays, report."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.services.funder_files.ingestion import FunderFileIngestion, locate
from chalicelib.services.funders.model import Funder
from chalicelib.services.trainings.dossiers import Dossier, DossierChange
from chalicelib.services.trainings.payments import Payment, StoredPayment

DOSSIERS = (
    "numero_dossier;nom;prenoms;date_naissance;courriel;code_formation;intitule_formation;"
    "date_debut;date_fin;siret_organisme;nom_organisme;courriel_organisme;taux_mensuel;"
    "date_decision;statut\n"
    "D-1;MARTIN;Camille;14/05/1990;;DEV;Développeur;16/10/2017;29/06/2018;54756834567143;IFN;;"
    "310,39;02/10/2017;en_cours\n"
)
PAYMENTS_HEADER = (
    "numero_dossier;reference_paiement;date_mise_en_paiement;periode_debut;periode_fin;"
    "element;libelle;taux;jours;diviseur;montant\n"
)


class MemoryFunders:
    def get(self, code: str) -> Funder | None:
        return Funder(code, "Région test") if code == "region" else None

    def list(self) -> list[Funder]:
        return []

    def save(self, funder: Funder) -> None:
        raise AssertionError("not used")


class MemoryDossiers:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Dossier] = {}
        self.changes: list[DossierChange] = []
        self.write_calls = 0

    def get_many(self, funder_code: str, dossier_numbers: list[str]) -> dict[str, Dossier]:
        return {
            number: self.items[(funder_code, number)]
            for number in dossier_numbers
            if (funder_code, number) in self.items
        }

    def write_many(
        self,
        dossiers: list[Dossier],
        changes: list[DossierChange],
        source_file: str,
        read: dict[str, Dossier],
    ) -> set[str]:
        self.write_calls += 1
        self.changes.extend(changes)
        changed = {
            dossier.dossier_number
            for dossier in dossiers
            if self.items.get((dossier.funder_code, dossier.dossier_number))
            != read.get(dossier.dossier_number)
        }
        for dossier in dossiers:
            if dossier.dossier_number not in changed:
                self.items[(dossier.funder_code, dossier.dossier_number)] = dossier
        return changed


class MemoryPayments:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Payment] = {}

    def get_stored(self, funder_code: str, references: list[str]) -> dict[str, StoredPayment]:
        return {
            reference: StoredPayment(self.items[(funder_code, reference)].content_hash, False)
            for reference in references
            if (funder_code, reference) in self.items
        }

    def write_many(self, payments: list[Payment], source_file: str) -> set[str]:
        present = {p.reference for p in payments if (p.funder_code, p.reference) in self.items}
        for payment in payments:
            self.items.setdefault((payment.funder_code, payment.reference), payment)
        return present


def make_ingestion(
    batch_size: int = 100,
) -> tuple[FunderFileIngestion, MemoryDossiers, MemoryPayments]:
    dossiers, payments = MemoryDossiers(), MemoryPayments()
    ingestion = FunderFileIngestion(
        MemoryFunders(), dossiers, payments, lambda: datetime(2026, 11, 27, tzinfo=UTC), batch_size
    )
    return ingestion, dossiers, payments


def ingest(ingestion: FunderFileIngestion, key: str, content: str, encoding: str = "utf-8"):
    incoming = locate(key)
    assert incoming is not None
    data = content.encode(encoding)
    # Tiny chunks: every boundary case of the streamed reading gets exercised.
    return ingestion.ingest(incoming, lambda: (data[i : i + 7] for i in range(0, len(data), 7)))


def report_text(report) -> str:
    return b"".join(report.csv_chunks()).decode("utf-8-sig")


def test_lines_of_one_payment_may_be_far_apart_in_the_file() -> None:
    ingestion, _, payments = make_ingestion(batch_size=1)
    ingest(ingestion, "incoming/region/dossiers_1.csv", DOSSIERS)
    report = ingest(
        ingestion,
        "incoming/region/paiements_1.csv",
        PAYMENTS_HEADER
        + "D-1;P-1;15/12/2017;01/11/2017;30/11/2017;REMUNERATION;;310,39;30;30;310,39\n"
        + "D-1;P-2;15/01/2018;01/12/2017;31/12/2017;REMUNERATION;;310,39;30;30;310,39\n"
        + "D-1;P-1;15/12/2017;06/11/2017;07/11/2017;RETENUE_ABSENCE;;310,39;2;30;-20,69\n",
    )
    assert report.counts.payments_stored == 2
    first = payments.items[("region", "P-1")]
    assert [str(line.amount) for line in first.lines] == ["310.39", "-20.69"]
    assert str(first.total) == "289.70"
    assert first.lines[1].label == "Retenue pour absence"


def test_one_invalid_line_rejects_its_whole_payment_and_names_both_lines() -> None:
    ingestion, _, payments = make_ingestion()
    ingest(ingestion, "incoming/region/dossiers_1.csv", DOSSIERS)
    report = ingest(
        ingestion,
        "incoming/region/paiements_1.csv",
        PAYMENTS_HEADER
        + "D-1;P-1;15/12/2017;01/11/2017;30/11/2017;REMUNERATION;;310,39;30;30;310,39\n"
        + "D-1;P-1;15/12/2017;06/11/2017;07/11/2017;RETENUE_ABSENCE;;310,39;2;30;20,69\n",
    )
    assert payments.items == {}
    assert report.counts.payments_rejected == 1
    assert report.counts.lines_rejected == 2
    text = report_text(report)
    assert (
        "Rejet;2;;paiement P-1 rejeté en entier : la ligne 3 du même paiement est invalide" in text
    )
    assert "Rejet;3;montant;" in text


def test_a_conflicting_replay_is_rejected_and_the_stored_payment_kept() -> None:
    ingestion, _, payments = make_ingestion()
    ingest(ingestion, "incoming/region/dossiers_1.csv", DOSSIERS)
    line = "D-1;P-1;20/03/2018;16/10/2017;31/10/2017;REMUNERATION;;310,39;14;30;144,85\n"
    ingest(ingestion, "incoming/region/paiements_1.csv", PAYMENTS_HEADER + line)
    changed = line.replace("14;30;144,85", "15;30;155,20")
    report = ingest(ingestion, "incoming/region/paiements_2.csv", PAYMENTS_HEADER + changed)
    assert report.counts.payments_rejected == 1
    assert "REGULARISATION" in report_text(report)
    assert str(payments.items[("region", "P-1")].total) == "144.85"


def test_a_dossier_number_twice_in_one_file_keeps_the_first() -> None:
    ingestion, dossiers, _ = make_ingestion()
    second = DOSSIERS.splitlines()[1].replace("MARTIN", "DURAND")
    report = ingest(ingestion, "incoming/region/dossiers_1.csv", DOSSIERS + second + "\n")
    assert dossiers.items[("region", "D-1")].family_name == "MARTIN"
    assert "Rejet;3;numero_dossier;dossier D-1 déjà présent ligne 2 du fichier" in report_text(
        report
    )


def test_an_update_is_recorded_with_old_and_new_values() -> None:
    ingestion, dossiers, _ = make_ingestion()
    ingest(ingestion, "incoming/region/dossiers_1.csv", DOSSIERS)
    report = ingest(
        ingestion, "incoming/region/dossiers_2.csv", DOSSIERS.replace("en_cours", "terminee")
    )
    assert report.counts.dossiers_updated == 1
    created, updated = dossiers.changes
    assert (created.created, created.changes, created.line) == (True, {}, 2)
    assert (updated.created, updated.line) == (False, 2)
    assert updated.changes == {"status": ("en_cours", "terminee")}
    assert updated.history_id("incoming/region/dossiers_2.csv").startswith(
        "incoming/region/dossiers_2.csv#0000002#"
    )


def test_a_file_received_again_gives_the_same_history_ids_and_no_new_version() -> None:
    ingestion, dossiers, _ = make_ingestion()
    ingest(ingestion, "incoming/region/dossiers_1.csv", DOSSIERS)
    first = [change.history_id("incoming/region/dossiers_1.csv") for change in dossiers.changes]
    dossiers.items.clear()  # as if the first run died before its dossier writes
    ingest(ingestion, "incoming/region/dossiers_1.csv", DOSSIERS)
    again = [change.history_id("incoming/region/dossiers_1.csv") for change in dossiers.changes]
    assert again == first + first  # the store's put-if-absent keeps one of each
    ingest(ingestion, "incoming/region/dossiers_1.csv", DOSSIERS)  # a plain redelivery
    assert len(dossiers.changes) == 2 * len(first)  # unchanged: no version recorded


def test_windows_1252_is_detected() -> None:
    ingestion, dossiers, _ = make_ingestion()
    ingest(
        ingestion,
        "incoming/region/dossiers_1.csv",
        DOSSIERS.replace("Camille", "Zoé").replace("\n", "\r\n"),
        encoding="cp1252",
    )
    assert dossiers.items[("region", "D-1")].given_names == "Zoé"


def test_the_report_starts_with_counts_then_names_ignored_columns() -> None:
    ingestion, _, _ = make_ingestion()
    content = DOSSIERS.replace("statut\n", "statut;commentaire\n", 1)
    report = ingest(ingestion, "incoming/region/dossiers_1.csv", content)
    lines = report_text(report).splitlines()
    assert lines[0] == "rubrique;ligne;colonne;detail"
    assert "Dossiers créés;;;1" in lines
    assert "Colonne ignorée;;commentaire;colonne inconnue, ignorée" in lines


def test_unknown_names_and_keys_outside_incoming_are_handled() -> None:
    ingestion, _, _ = make_ingestion()
    assert locate("reports/region/x.csv") is None
    assert locate("incoming/x.csv") is None
    assert locate("incoming/region/sub/x.csv") is None
    report = ingest(ingestion, "incoming/region/notes.txt", "bonjour")
    assert (
        report.file_error
        == "nom de fichier non reconnu : attendu dossiers_*.csv ou paiements_*.csv"
    )


class PaymentsStoredMeanwhile(MemoryPayments):
    """A concurrent run stores `meanwhile` between this run's read and its write."""

    def __init__(self, meanwhile: Payment) -> None:
        super().__init__()
        self.meanwhile: Payment | None = meanwhile

    def get_stored(self, funder_code: str, references: list[str]) -> dict[str, StoredPayment]:
        stored = super().get_stored(funder_code, references)
        if self.meanwhile is not None:
            payment, self.meanwhile = self.meanwhile, None
            self.items[(payment.funder_code, payment.reference)] = payment
        return stored


PAYMENT_LINE = "D-1;P-1;15/12/2017;01/11/2017;30/11/2017;REMUNERATION;;310,39;30;30;310,39\n"


def test_a_payment_stored_meanwhile_with_other_content_is_reported_as_a_sequential_conflict() -> (
    None
):
    ingestion, _, payments = make_ingestion()
    ingest(ingestion, "incoming/region/dossiers_1.csv", DOSSIERS)
    ingest(ingestion, "incoming/region/paiements_0.csv", PAYMENTS_HEADER + PAYMENT_LINE)
    other = payments.items[("region", "P-1")]
    sequential = ingest(
        ingestion,
        "incoming/region/paiements_1.csv",
        PAYMENTS_HEADER + PAYMENT_LINE.replace("30;30;310,39", "15;30;155,20"),
    )
    racing = PaymentsStoredMeanwhile(other)
    ingestion.payments = racing
    concurrent = ingest(
        ingestion,
        "incoming/region/paiements_1.csv",
        PAYMENTS_HEADER + PAYMENT_LINE.replace("30;30;310,39", "15;30;155,20"),
    )
    assert racing.items[("region", "P-1")] == other, "the amount stored first stays"
    assert concurrent.counts == sequential.counts
    assert report_text(concurrent) == report_text(sequential)


def test_a_payment_stored_meanwhile_with_the_same_content_is_skipped() -> None:
    ingestion, _, payments = make_ingestion()
    ingest(ingestion, "incoming/region/dossiers_1.csv", DOSSIERS)
    ingest(ingestion, "incoming/region/paiements_0.csv", PAYMENTS_HEADER + PAYMENT_LINE)
    racing = PaymentsStoredMeanwhile(payments.items[("region", "P-1")])
    ingestion.payments = racing
    report = ingest(ingestion, "incoming/region/paiements_1.csv", PAYMENTS_HEADER + PAYMENT_LINE)
    assert (report.counts.payments_stored, report.counts.payments_skipped) == (0, 1)


class DossiersLinkedMeanwhile(MemoryDossiers):
    """A trainee links D-1 to her account between this run's first read and its write."""

    def __init__(self) -> None:
        super().__init__()
        self.link_once = False

    def get_many(self, funder_code: str, dossier_numbers: list[str]) -> dict[str, Dossier]:
        found = super().get_many(funder_code, dossier_numbers)
        if self.link_once and (funder_code, "D-1") in self.items:
            self.link_once = False
            self.items[(funder_code, "D-1")] = self.items[(funder_code, "D-1")].with_account("acc")
        return found


def test_a_dossier_linked_meanwhile_is_read_again_and_keeps_its_link() -> None:
    dossiers = DossiersLinkedMeanwhile()
    ingestion = FunderFileIngestion(
        MemoryFunders(), dossiers, MemoryPayments(), lambda: datetime(2026, 11, 27, tzinfo=UTC)
    )
    ingest(ingestion, "incoming/region/dossiers_1.csv", DOSSIERS)
    dossiers.link_once = True
    report = ingest(
        ingestion, "incoming/region/dossiers_2.csv", DOSSIERS.replace("en_cours", "abandon")
    )
    stored = dossiers.items[("region", "D-1")]
    assert stored.account_id == "acc" and stored.status.value == "abandon"
    assert (report.counts.dossiers_updated, report.counts.dossiers_created) == (1, 0)
    assert dossiers.write_calls == 3, "one refused write, then the write of the version read again"


def test_no_cell_of_the_report_can_start_a_formula() -> None:
    # OWASP CSV injection: the funder's own text comes back into a report opened in a
    # spreadsheet; a column named =HYPERLINK(...) was echoed at the start of a cell.
    import csv

    ingestion, _, _ = make_ingestion()
    # (Header names are stripped: a leading tab or carriage return is tested below.)
    hostile = ['=HYPERLINK("http://evil.example/","clic")', "+1+1", "-2", "@SUM(A1)"]
    header_end = "statut;" + ";".join(f'"{name}"' for name in hostile) + "\n"
    content = DOSSIERS.replace("statut\n", header_end, 1).replace(
        "en_cours\n", "en_cours" + ";" * len(hostile) + "\n"
    )
    report = ingest(ingestion, "incoming/region/dossiers_1.csv", content)
    rows = list(csv.reader(report_text(report).splitlines(keepends=True), delimiter=";"))
    ignored = [row[2] for row in rows if row[0] == "Colonne ignorée"]
    # Column names come back lower-cased, each behind its quote.
    assert [cell[:2] for cell in ignored] == ["'=", "'+", "'-", "'@"]
    assert "hyperlink(" in ignored[0]
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row


def test_a_rejection_echoing_a_formula_is_neutralised_too() -> None:
    from chalicelib.services.funder_files.records import Rejection
    from chalicelib.services.funder_files.report import FileReport

    report = FileReport("incoming/region/x.csv", datetime(2026, 1, 1, tzinfo=UTC))
    report.reject(Rejection(line=2, column="=col", reason="-12,00 n'est pas un montant permis"))
    report.reject(Rejection(line=3, column="\tcol", reason="\r=1+1"))
    lines = report_text(report).split("\r\n")
    assert lines[-3] == "Rejet;2;'=col;'-12,00 n'est pas un montant permis"
    assert lines[-2] == "Rejet;3;'\tcol;\"'\r=1+1\""
