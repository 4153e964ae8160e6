"""In-memory stand-ins for the repositories FunderFileIngestion is given, to time it alone.

With `remember=False` a repository keeps counts only, as DynamoDB keeps nothing in the Lambda's
memory: that is how the memory benchmark runs, so the fakes' own storage is not measured.
"""

from __future__ import annotations

from chalicelib.services.funders.model import Funder
from chalicelib.services.trainings.dossiers import Dossier, DossierChange
from chalicelib.services.trainings.payments import Payment, StoredPayment


class FakeFunderRepository:
    def __init__(self, *funders: Funder) -> None:
        self._funders = {funder.code: funder for funder in funders}

    def get(self, code: str) -> Funder | None:
        return self._funders.get(code)

    def list(self) -> list[Funder]:
        return list(self._funders.values())

    def save(self, funder: Funder) -> None:
        self._funders[funder.code] = funder


class FakeDossierRepository:
    def __init__(self, *, remember: bool = True) -> None:
        self._remember = remember
        self._stored: dict[tuple[str, str], Dossier] = {}
        self.get_requests = 0
        self.write_requests = 0
        self.dossiers_written = 0
        self.changes_written = 0

    def get_many(self, funder_code: str, dossier_numbers: list[str]) -> dict[str, Dossier]:
        self.get_requests += 1
        stored = self._stored
        return {
            number: stored[(funder_code, number)]
            for number in dossier_numbers
            if (funder_code, number) in stored
        }

    def write_many(
        self,
        dossiers: list[Dossier],
        changes: list[DossierChange],
        source_file: str,
        read: dict[str, Dossier],
    ) -> set[str]:
        self.write_requests += 1
        self.dossiers_written += len(dossiers)
        self.changes_written += len(changes)
        if self._remember:
            for dossier in dossiers:
                self._stored[(dossier.funder_code, dossier.dossier_number)] = dossier
        return set()  # nobody else writes here


class FakePaymentRepository:
    def __init__(self, *, remember: bool = True) -> None:
        self._remember = remember
        self._hashes: dict[tuple[str, str], str] = {}
        self.get_requests = 0
        self.write_requests = 0
        self.payments_written = 0

    def get_stored(self, funder_code: str, references: list[str]) -> dict[str, StoredPayment]:
        self.get_requests += 1
        hashes = self._hashes
        return {
            reference: StoredPayment(hashes[(funder_code, reference)], True)
            for reference in references
            if (funder_code, reference) in hashes
        }

    def write_many(self, payments: list[Payment], source_file: str) -> set[str]:
        self.write_requests += 1
        self.payments_written += len(payments)
        if self._remember:
            for payment in payments:
                self._hashes[(payment.funder_code, payment.reference)] = payment.content_hash
        return set()  # nobody else writes here
