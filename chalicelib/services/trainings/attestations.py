"""« Mes attestations »: what a trainee was paid over a period, as a PDF anyone can check online.

A statement lists the payments of the trainee's own trainings whose date of payment (« date de
mise en paiement ») falls in the period, both ends included, grouped by month of that date, with
exact Decimal totals: each payment counts for its `Payment.total`, the very figure of its payment
notice. Issuing an attestation stores what it states with a random verification code (80 bits,
kept hashed for the look-up), valid six months, withdrawable by its owner; `/verifier` shows
what it states and counts each verification.
"""

from __future__ import annotations

import hashlib
import secrets
from calendar import monthrange
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from chalicelib.services.accounts.model import AuditLog, Clock
from chalicelib.services.errors import NotFound
from chalicelib.services.formatting import format_date, format_euros, format_number, paris_date
from chalicelib.services.funder_files.values import parse_date
from chalicelib.services.security.throttling import RateLimiter
from chalicelib.services.trainings.documents import DocumentContent, KeyValueBlock, TableContent
from chalicelib.services.trainings.my_trainings import Training
from chalicelib.services.trainings.payments import Payment

ZERO = Decimal("0.00")
VALIDITY_MONTHS = 6
# 32 symbols, so 5 bits each: 16 of them are 80 bits. No I, O, 0 or 1: read aloud or copied from
# paper, they are mistaken for one another.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16
CODE_GROUP = 4
ALL_TRAININGS = "toutes"
MAX_LISTED = 50  # the newest attestations shown: a bounded Query
MAX_ID_LENGTH = 100  # ours are 27 characters: a longer one is not even looked up

MONTH_NAMES = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

BAD_DATE = "Saisissez une date au format JJ/MM/AAAA, par exemple 01/10/2017."
BAD_MONTH = "Saisissez un mois au format MM/AAAA, par exemple 03/2018."
BAD_CHOICE = "Choisissez une période dans la liste."
BAD_TRAINING = "Choisissez une de vos formations dans la liste."
END_BEFORE_START = "La fin de la période doit être après son début."
NOT_YOURS = "Cette attestation n’existe pas, a été retirée ou n’est pas rattachée à votre compte."
TOO_MANY_VERIFICATIONS = (
    "Trop de vérifications depuis votre adresse. Patientez quelques minutes avant de réessayer."
)
UNKNOWN_CODE = (
    "Aucune attestation ne correspond à ce code. Vérifiez-le sur l’attestation : 16 lettres et "
    "chiffres, par exemple ABCD-EFGH-JKLM-NPQR."
)


# Periods -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttestationPeriod:
    start: date
    end: date
    label: str  # what the PDF and the verification page call it

    @staticmethod
    def month(year: int, month: int) -> AttestationPeriod:
        last = monthrange(year, month)[1]
        return AttestationPeriod(
            date(year, month, 1), date(year, month, last), f"{MONTH_NAMES[month - 1]} {year}"
        )

    @staticmethod
    def last_three_months(today: date) -> AttestationPeriod:
        """The three whole months before the current one: what the CAF's quarterly declaration
        asks for (declared in December: September, October and November)."""
        end = today.replace(day=1) - timedelta(days=1)
        start = _add_months(end.replace(day=1), -2)
        return AttestationPeriod(start, end, f"Du {format_date(start)} au {format_date(end)}")

    @staticmethod
    def year(year: int) -> AttestationPeriod:
        return AttestationPeriod(date(year, 1, 1), date(year, 12, 31), f"Année {year}")

    @staticmethod
    def dates(start: date, end: date) -> AttestationPeriod:
        return AttestationPeriod(start, end, f"Du {format_date(start)} au {format_date(end)}")

    def holds(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Selection:
    """What the trainee chose, as the form (or the API) sends it."""

    choice: str = "3-derniers-mois"  # "3-derniers-mois", "annee", "mois" or "dates"
    year: str = ""
    month: str = ""  # MM/AAAA
    start: str = ""  # JJ/MM/AAAA
    end: str = ""
    training: str = ALL_TRAININGS  # a Training.key, or ALL_TRAININGS


def period_of(selection: Selection, today: date) -> tuple[AttestationPeriod | None, dict[str, str]]:
    """The period chosen, or French errors keyed by the selection's inputs (`period`, `year`,
    `month`, `period_start`, `period_end`): each face names them its own way."""
    choice = selection.choice
    if choice == "3-derniers-mois":
        return AttestationPeriod.last_three_months(today), {}
    if choice == "annee":
        text = selection.year.strip()
        if len(text) == 4 and text.isdigit() and 1900 < int(text) <= today.year:
            return AttestationPeriod.year(int(text)), {}
        return None, {"year": f"Saisissez une année entre 1901 et {today.year}, par exemple 2018."}
    if choice == "mois":
        month, _, year = selection.month.strip().partition("/")
        well_formed = len(month) in (1, 2) and month.isdigit() and len(year) == 4
        if well_formed and year.isdigit() and 1 <= int(month) <= 12 and int(year) > 1900:
            return AttestationPeriod.month(int(year), int(month)), {}
        return None, {"month": BAD_MONTH}
    if choice == "dates":
        errors: dict[str, str] = {}
        chosen: dict[str, date] = {}
        for name, text in (("period_start", selection.start), ("period_end", selection.end)):
            try:
                chosen[name] = parse_date(text.strip())
            except ValueError:
                errors[name] = BAD_DATE
        if errors:
            return None, errors
        if chosen["period_end"] < chosen["period_start"]:
            return None, {"period_end": END_BEFORE_START}
        return AttestationPeriod.dates(chosen["period_start"], chosen["period_end"]), {}
    return None, {"period": BAD_CHOICE}


# What an attestation states ----------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    payment_date: date
    reference: str
    funder: str
    training: str
    amount: Decimal


@dataclass(frozen=True)
class MonthTotal:
    month: date  # its first day
    lines: tuple[StatementLine, ...]

    @property
    def label(self) -> str:
        return f"{MONTH_NAMES[self.month.month - 1]} {self.month.year}"

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


@dataclass(frozen=True)
class Statement:
    period: AttestationPeriod
    trainee_name: str  # as in the dossier
    birth_date: date | None
    funders: tuple[str, ...]
    trainings: tuple[str, ...]
    lines: tuple[StatementLine, ...]  # by date of payment, then reference

    @property
    def months(self) -> tuple[MonthTotal, ...]:
        groups: dict[date, list[StatementLine]] = {}
        for line in self.lines:
            groups.setdefault(line.payment_date.replace(day=1), []).append(line)
        return tuple(MonthTotal(month, tuple(lines)) for month, lines in sorted(groups.items()))

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


@dataclass(frozen=True)
class Attestation:
    attestation_id: str
    account_id: str
    code: str  # human form, ABCD-EFGH-JKLM-NPQR
    statement: Statement
    issued_at: datetime
    expires_at: datetime
    withdrawn_at: datetime | None = None
    verification_count: int = 0
    last_verified_at: datetime | None = None

    def status(self, now: datetime) -> str:
        """ "valid", "withdrawn" or "expired"."""
        if self.withdrawn_at is not None:
            return "withdrawn"
        return "valid" if now < self.expires_at else "expired"


@dataclass(frozen=True)
class Issued:
    attestation: Attestation
    content: DocumentContent


@dataclass(frozen=True)
class Verification:
    attestation: Attestation
    status: str


class AttestationRepository(Protocol):
    def create(self, attestation: Attestation, code_hash: str) -> None: ...

    def list_for_account(self, account_id: str, limit: int) -> list[Attestation]: ...

    def get(self, account_id: str, attestation_id: str) -> Attestation | None: ...

    def withdraw(self, account_id: str, attestation_id: str, at: datetime) -> bool: ...

    def count_verification(self, code_hash: str, at: datetime) -> Attestation | None: ...


class PaymentsOfDossier(Protocol):
    def list_for_dossier(self, funder_code: str, dossier_number: str) -> list[Payment]: ...


class TraineeTrainings(Protocol):
    def of_account(self, account_id: str) -> list[Training]: ...


# Codes -------------------------------------------------------------------------------------------


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))


def normalise_code(text: str) -> str | None:
    """The code as typed (lower case, spaces, hyphens, a pasted URL's code) in its stored form,
    or None when it cannot be one of ours."""
    raw = "".join(char for char in text.upper() if char not in " -\u00a0\t")
    if len(raw) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in raw):
        return None
    return "-".join(raw[i : i + CODE_GROUP] for i in range(0, CODE_LENGTH, CODE_GROUP))


def code_hash(code: str) -> str:
    # 80 random bits need no slow hash: the store never holds the look-up key in clear.
    return hashlib.sha256(f"attestation:{code}".encode()).hexdigest()


def add_months(moment: datetime, months: int) -> datetime:
    return datetime.combine(_add_months(moment.date(), months), moment.timetz())


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


# The service -------------------------------------------------------------------------------------


@dataclass
class Attestations:
    trainings: TraineeTrainings
    payments: PaymentsOfDossier
    repository: AttestationRepository
    clock: Clock
    verify_url: str  # <PUBLIC_BASE_URL>/verifier
    audit: AuditLog
    limiter: RateLimiter

    def today(self) -> date:
        return paris_date(self.clock())

    def ready_made_choices(self) -> list[tuple[str, Selection]]:
        return ready_made_choices(self.today())

    def choices(self, account_id: str) -> list[Training]:
        return self.trainings.of_account(account_id)

    def statement(
        self, account_id: str, selection: Selection
    ) -> tuple[Statement | None, dict[str, str]]:
        """The trainee's payments over the period, from their own trainings only."""
        period, errors = period_of(selection, self.today())
        trainings = self.trainings.of_account(account_id)
        if selection.training != ALL_TRAININGS:
            trainings = [t for t in trainings if t.key == selection.training]
            if not trainings:
                errors = {**errors, "training": BAD_TRAINING}
        if period is None or errors:
            return None, errors
        return build_statement(period, trainings, self.payments), {}

    def issue(self, account_id: str, selection: Selection) -> tuple[Issued | None, dict[str, str]]:
        statement, errors = self.statement(account_id, selection)
        if statement is None:
            return None, errors
        now = self.clock()
        code = new_code()
        attestation = Attestation(
            attestation_id=f"{now:%Y%m%d%H%M%S}-{secrets.token_hex(6)}",
            account_id=account_id,
            code=code,
            statement=statement,
            issued_at=now,
            expires_at=add_months(now, VALIDITY_MONTHS),
        )
        self.repository.create(attestation, code_hash(code))
        return Issued(attestation, self.content(attestation)), {}

    def list(self, account_id: str) -> list[Attestation]:
        """Newest first."""
        return self.repository.list_for_account(account_id, MAX_LISTED)

    def document(self, account_id: str, attestation_id: str) -> DocumentContent:
        """An issued attestation's PDF again: only its owner's, and not once withdrawn (raises
        `NotFound` otherwise)."""
        attestation = (
            self.repository.get(account_id, attestation_id)
            if 0 < len(attestation_id) <= MAX_ID_LENGTH
            else None
        )
        if attestation is None or attestation.withdrawn_at is not None:
            raise NotFound(NOT_YOURS)
        return self.content(attestation)

    def withdraw(self, account_id: str, attestation_id: str, client_ip: str | None) -> None:
        """Withdraws one of the account's attestations (again: nothing more), into its audit
        trail; raises `NotFound` when the account holds no such attestation (someone else's
        answers the same)."""
        if not 0 < len(attestation_id) <= MAX_ID_LENGTH or not self.repository.withdraw(
            account_id, attestation_id, self.clock()
        ):
            raise NotFound(NOT_YOURS)
        self.audit.record(
            account_id, "attestation-withdrawn", client_ip, {"attestation": attestation_id}
        )

    def verify(self, typed: str, client_ip: str | None) -> Verification:
        """The public check of a code, counted per client address before it is looked at:
        raises `RateLimited`, or `NotFound` for a code that matches no attestation."""
        self.limiter.check("verification", client_ip, TOO_MANY_VERIFICATIONS)
        code = normalise_code(typed)
        now = self.clock()
        attestation = self.repository.count_verification(code_hash(code), now) if code else None
        if attestation is None:
            raise NotFound(UNKNOWN_CODE)
        return Verification(attestation, attestation.status(now))

    def verification_link(self, code: str) -> str:
        return f"{self.verify_url}?code={code}"

    def content(self, attestation: Attestation) -> DocumentContent:
        return attestation_content(attestation, self.verification_link(attestation.code))


def build_statement(
    period: AttestationPeriod, trainings: list[Training], payments: PaymentsOfDossier
) -> Statement:
    lines: list[StatementLine] = []
    paying: list[Training] = []
    for training in trainings:
        dossier = training.dossier
        found = [
            payment
            for payment in payments.list_for_dossier(dossier.funder_code, dossier.dossier_number)
            if payment.dossier_number == dossier.dossier_number
            and period.holds(payment.payment_date)
        ]
        if found:
            paying.append(training)
        lines.extend(
            StatementLine(
                payment.payment_date,
                payment.reference,
                training.funder.name,
                dossier.training_title,
                payment.total,
            )
            for payment in found
        )
    lines.sort(key=lambda line: (line.payment_date, line.reference))
    # The trainings and funders that paid in the period (all those chosen when none did), and the
    # name as the newest of their dossiers writes it: trainings come newest first.
    shown = paying or trainings
    newest = shown[0].dossier if shown else None
    return Statement(
        period=period,
        trainee_name=f"{newest.given_names} {newest.family_name}" if newest else "",
        birth_date=newest.birth_date if newest else None,
        funders=tuple(dict.fromkeys(t.funder.name for t in shown)),
        trainings=tuple(
            dict.fromkeys(
                f"{t.dossier.training_title} (dossier n° {t.dossier.dossier_number})" for t in shown
            )
        ),
        lines=tuple(lines),
    )


def funders_text(statement: Statement) -> str:
    return ", ".join(statement.funders) or "—"


def attestation_content(attestation: Attestation, verification_url: str) -> DocumentContent:
    """The attestation's PDF: who pays, whom, for what, month by month, and how to check it."""
    statement = attestation.statement
    period = statement.period
    trainee: list[tuple[str, str]] = [("Nom et prénoms", statement.trainee_name)]
    if statement.birth_date is not None:
        trainee.append(("Date de naissance", format_date(statement.birth_date)))
    blocks = [
        KeyValueBlock("Stagiaire", tuple(trainee)),
        KeyValueBlock(
            "Rémunération de stagiaire de la formation professionnelle",
            (
                (
                    "Financeur" if len(statement.funders) < 2 else "Financeurs",
                    funders_text(statement),
                ),
                *(("Formation", training) for training in statement.trainings),
                ("Période", f"{period.label} ({_period_dates(period)})"),
            ),
        ),
    ]
    tables: list[TableContent] = []
    months = statement.months
    if months:
        multi = len(statement.funders) > 1
        header = (
            "Date de mise en paiement",
            "Référence",
            *(("Financeur",) if multi else ()),
            "Montant",
        )
        rows: list[tuple[str, ...]] = []
        subtotals: set[int] = set()
        for month in months:
            for line in month.lines:
                rows.append(
                    (
                        format_date(line.payment_date),
                        line.reference,
                        *((line.funder,) if multi else ()),
                        format_number(line.amount),
                    )
                )
            subtotals.add(len(rows))
            rows.append(
                (f"Total {month.label}", "", *(("",) if multi else ()), format_number(month.total))
            )
        tables.append(
            TableContent(
                heading="Paiements, par mois de mise en paiement",
                header=header,
                rows=tuple(rows),
                totals=(
                    "TOTAL DE LA PÉRIODE",
                    "",
                    *(("",) if multi else ()),
                    format_number(statement.total),
                ),
                numeric_columns=frozenset({len(header) - 1}),
                # A funder's name may need two lines; dates, references and amounts never do.
                plain=not multi,
                bold_rows=frozenset(subtotals),
            )
        )
        closing = (
            f"Montant total mis en paiement sur la période : {format_euros(statement.total)}",
        )
    else:
        closing = (
            "Aucun paiement n’a été mis en paiement sur cette période : montant total 0,00 €.",
        )
    issued = format_date(attestation.issued_at)
    valid_until = format_date(attestation.expires_at)
    return DocumentContent(
        title="Attestation de paiement",
        subject=f"Attestation de paiement, {period.label}, {statement.trainee_name}",
        issuer=funders_text(statement),
        subtitle=(f"Période : {period.label}", f"Délivrée le {issued}"),
        blocks=tuple(blocks),
        tables=tuple(tables),
        closing=closing,
        notes=(
            "Montants nets mis en paiement par le financeur, égaux à ceux des avis de paiement.",
            f"Attestation délivrée le {issued} par le Portail stagiaire, valable jusqu’au "
            f"{valid_until}. Son destinataire peut vérifier qu’elle est authentique et n’a pas "
            f"été retirée : {verification_url.split('?')[0]}, "
            f"code {attestation.code}, ou en lisant le QR code.",
        ),
        filename=f"attestation-de-paiement-{period.start:%Y%m%d}-{period.end:%Y%m%d}.pdf",
        verification_code=attestation.code,
        verification_url=verification_url,
    )


def _period_dates(period: AttestationPeriod) -> str:
    return f"du {format_date(period.start)} au {format_date(period.end)}"


def ready_made_choices(today: date) -> list[tuple[str, Selection]]:
    """The two ready-made choices: the CAF's quarter, and the past calendar years."""
    choices = [
        (
            "Attestation des 3 derniers mois (déclaration trimestrielle CAF)",
            Selection(choice="3-derniers-mois"),
        )
    ]
    for year in range(today.year, today.year - 10, -1):
        choices.append(
            (f"Récapitulatif de l’année {year}", Selection(choice="annee", year=str(year)))
        )
    return choices


def with_training(selection: Selection, training: str) -> Selection:
    return replace(selection, training=training or ALL_TRAININGS)
