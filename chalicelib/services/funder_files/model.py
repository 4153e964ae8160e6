"""The funders' vocabulary that outlives a file: a dossier's status and a payment line's element, as
the funder files spell them (docs/specs/funder-files.md). The dossiers and payments keep them, and
the store writes them as they are, so they live here rather than with the file's records."""

from __future__ import annotations

from enum import StrEnum


class DossierStatus(StrEnum):
    IN_PROGRESS = "en_cours"
    FINISHED = "terminee"
    ABANDONED = "abandon"


class PaymentElement(StrEnum):
    REMUNERATION = "REMUNERATION"
    PAID_LEAVE = "CONGES_PAYES"
    ABSENCE_DEDUCTION = "RETENUE_ABSENCE"
    OVERPAYMENT = "INDU"
    ADJUSTMENT = "REGULARISATION"
