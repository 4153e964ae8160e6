"""Generated funder files, written to disk once and then streamed in chunks like S3 objects.

The content is deterministic and close to real exports: a dossier gets a payment a month, a
payment holds one to three lines (remuneration, absence deduction, paid leave) whose amounts
follow taux x jours / diviseur, and one payment in a thousand carries a wrong amount so the
rejection path is exercised too.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

CHUNK_BYTES = 256 * 1024  # what ExchangeBucket.opener reads from S3 at a time
FUNDER_CODE = "region-bench"
SEED = 20_260_101

DOSSIER_HEADER = (
    "numero_dossier;nom;prenoms;date_naissance;courriel;code_formation;intitule_formation;"
    "date_debut;date_fin;siret_organisme;nom_organisme;courriel_organisme;taux_mensuel;"
    "date_decision;statut"
)
PAYMENT_HEADER = (
    "numero_dossier;reference_paiement;date_mise_en_paiement;periode_debut;periode_fin;"
    "element;libelle;taux;jours;diviseur;montant"
)

_FAMILY_NAMES = ("MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "PETIT", "DURAND", "LEROY")
_GIVEN_NAMES = ("Camille", "Lucas Jean", "Inès", "Hugo", "Sarah Marie", "Angela Claire", "Léa")
_TRAININGS = (
    ("DEV-WEB", "Développeur web et web mobile"),
    ("AIDE-SOIN", "Aide-soignant"),
    ("CUISINE", "Cuisinier"),
    ("COMPTA", "Comptable assistant"),
)
_ORGANISATIONS = (
    ("54756834567143", "Institut de formation numérique", "contact@ifn.example.fr"),
    ("13476182522257", "Centre de formation sanitaire et social", ""),
    ("54802041817978", "Lycée des métiers Jean-Prouvé", "formation@jean-prouve.example.fr"),
)
_RATES = (Decimal("310.39"), Decimal("652.02"), Decimal("685.00"), Decimal("401.09"))
_CENT = Decimal("0.01")
_INVALID_EVERY = 1000  # one payment in this many has a wrong amount, so it is rejected whole


@dataclass(frozen=True)
class GeneratedFile:
    path: Path
    lines: int
    size_bytes: int
    dossiers: int  # distinct dossier numbers the file names
    payments: int = 0  # distinct payment references
    invalid_payments: int = 0

    def chunks(self) -> Iterator[bytes]:
        """The file afresh, CHUNK_BYTES at a time: a FunderFileIngestion ChunkSource."""
        with self.path.open("rb") as stream:
            while chunk := stream.read(CHUNK_BYTES):
                yield chunk


def dossier_number(index: int) -> str:
    return f"BENCH-2026-{index:06d}"


def _fr(value: Decimal) -> str:
    return f"{value:f}".replace(".", ",")


def _rate_of(index: int) -> Decimal:
    return _RATES[index % len(_RATES)]


def _dossier_line(index: int, rng: random.Random) -> str:
    family_name = _FAMILY_NAMES[index % len(_FAMILY_NAMES)]
    given_names = _GIVEN_NAMES[index % len(_GIVEN_NAMES)]
    birth = date(1960, 1, 1) + timedelta(days=rng.randrange(16_000))
    start = date(2026, 1, 5) + timedelta(days=rng.randrange(300))
    end = start + timedelta(days=rng.randrange(120, 400))
    decision = start - timedelta(days=rng.randrange(10, 40))
    code, title = _TRAININGS[index % len(_TRAININGS)]
    siret, organisation, organisation_email = _ORGANISATIONS[index % len(_ORGANISATIONS)]
    email = "" if index % 5 == 0 else f"stagiaire.{index}@example.fr"
    status = "en_cours" if index % 9 else "abandon"
    return (
        f"{dossier_number(index)};{family_name};{given_names};{birth:%d/%m/%Y};{email};{code};"
        f"{title};{start:%d/%m/%Y};{end:%d/%m/%Y};{siret};{organisation};{organisation_email};"
        f"{_fr(_rate_of(index))};{decision:%d/%m/%Y};{status}"
    )


def write_dossiers_file(path: Path, lines: int) -> GeneratedFile:
    """`lines` dossiers numbered 0 to lines - 1, all valid."""
    rng = random.Random(SEED)
    with path.open("w", encoding="utf-8", newline="") as stream:
        stream.write(DOSSIER_HEADER + "\r\n")
        for index in range(lines):
            stream.write(_dossier_line(index, rng) + "\r\n")
    return GeneratedFile(path, lines, path.stat().st_size, dossiers=lines)


def _amount(rate: Decimal, days: int, divisor: int) -> Decimal:
    return (rate * days / divisor).quantize(_CENT, rounding=ROUND_HALF_UP)


def _payment_lines(dossier: int, month: int, rng: random.Random, wrong: bool) -> list[str]:
    """The lines of one monthly payment of a dossier (month 1 is January 2026)."""
    number = dossier_number(dossier)
    reference = f"BENCH-P-{dossier:06d}-{month:02d}"
    period_start = date(2026, month, 1)
    period_end = (period_start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    paid = period_end + timedelta(days=10)
    head = f"{number};{reference};{paid:%d/%m/%Y};"
    rate = _rate_of(dossier)
    full = _amount(rate, 30, 30) + (_CENT if wrong else 0)
    lines = [
        f"{head}{period_start:%d/%m/%Y};{period_end:%d/%m/%Y};REMUNERATION;;"
        f"{_fr(rate)};30;30;{_fr(full)}"
    ]
    shape = rng.random()
    if shape >= 0.5:  # half the payments deduct an absence
        days = rng.randrange(1, 6)
        absent = period_start + timedelta(days=rng.randrange(20))
        lines.append(
            f"{head}{absent:%d/%m/%Y};{absent + timedelta(days=days - 1):%d/%m/%Y};"
            f"RETENUE_ABSENCE;Absence non justifiée;{_fr(rate)};{days};30;"
            f"{_fr(-_amount(rate, days, 30))}"
        )
    if shape >= 0.8:  # a fifth also pay leave, without a computation
        lines.append(
            f"{head}{period_start:%d/%m/%Y};{period_end:%d/%m/%Y};CONGES_PAYES;;;;;"
            f"{_fr(Decimal(rng.randrange(2000, 9000)) / 100)}"
        )
    return lines


def write_payments_file(path: Path, lines: int) -> GeneratedFile:
    """Exactly `lines` lines: about lines / 1.7 payments, ten a dossier, dossiers from number 0."""
    rng = random.Random(SEED)
    written = payments = invalid = 0
    dossier = 0
    with path.open("w", encoding="utf-8", newline="") as stream:
        stream.write(PAYMENT_HEADER + "\r\n")
        while written < lines:
            for month in range(1, 11):
                wrong = (payments + 1) % _INVALID_EVERY == 0
                payment = _payment_lines(dossier, month, rng, wrong)[: lines - written]
                stream.write("\r\n".join(payment) + "\r\n")
                written += len(payment)
                payments += 1
                invalid += wrong
                if written == lines:
                    break
            dossier += 1
    return GeneratedFile(
        path,
        lines,
        path.stat().st_size,
        dossiers=dossier,
        payments=payments,
        invalid_payments=invalid,
    )
