"""Demo data for `make run`, loaded through the real paths: funders by the admin service,
dossiers and payments as funder files dropped into the exchange bucket, the CGU published like
an operator would, and one account ready to use."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from chalicelib.container import get_container
from chalicelib.services.accounts.model import Account, AccountKind, CreateOutcome
from chalicelib.services.accounts.passwords import normalise_secret_answer
from chalicelib.services.funders.model import Funder, save_funder

DEMO_DIR = Path(__file__).parent / "demo"

DEMO_FUNDERS = (
    Funder("region-idf", "Région Île-de-France", franceconnect_enabled=True, messages_enabled=True),
    Funder("region-hdf", "Région Hauts-de-France"),
    Funder("france-travail", "France Travail", franceconnect_enabled=True),
)
TERMS_VERSION = "2026-11"


@dataclass(frozen=True)
class ReadyAccount:
    email: str = "camille.martin@example.fr"
    password: str = "Stagiaire-Demo-2026"
    secret_question: str = "Ville de naissance ?"
    secret_answer: str = "Lille"
    dossiers: tuple[tuple[str, str], ...] = (
        ("region-idf", "IDF-2017-000123"),
        ("region-hdf", "HDF-2026-000042"),
    )


READY = ReadyAccount()


@dataclass(frozen=True)
class ReadyStaffAccount:
    """A staff member of Camille's Île-de-France organisation, first-login steps done."""

    email: str = "claire.durand@ifn.example.fr"
    password: str = "Organisme-Demo-2026"
    secret_question: str = "Ville de naissance ?"
    secret_answer: str = "Lille"
    siret: str = "54756834567143"
    organisation_name: str = "Institut de formation numérique"


READY_STAFF = ReadyStaffAccount()


def load_demo(say: Callable[[str], None], wait_for: Callable[[], None]) -> None:
    container = get_container()
    for funder in DEMO_FUNDERS:
        save_funder(container.funders, funder)
    # Dossiers first: a payment file only accepts dossiers the portal already knows.
    for kind in ("dossiers", "paiements"):
        for path in sorted(DEMO_DIR.glob(f"{kind}_*.csv")):
            funder_code = demo_file_funder(path, kind)
            container.exchange.put(f"incoming/{funder_code}/{path.name}", path.read_bytes())
        wait_for()
    if container.terms.repository.get(TERMS_VERSION) is None:
        container.terms.publish(TERMS_VERSION, (DEMO_DIR / "cgu-v1.txt").read_text("utf-8"))
    create_ready_account()
    create_ready_staff_account()
    say(
        f"Données de démo chargées : {len(DEMO_FUNDERS)} financeurs, fichiers de {DEMO_DIR}, "
        f"compte prêt {READY.email} / {READY.password}, organisme {READY_STAFF.email} / "
        f"{READY_STAFF.password} sur /organisme/."
    )


def demo_file_funder(path: Path, kind: str) -> str:
    """`dossiers_region-idf.csv` and `dossiers_region-idf.parcours-guide.csv` are both files of
    region-idf: what follows a dot only tells apart several files of one funder."""
    return path.stem.removeprefix(f"{kind}_").partition(".")[0]


def create_ready_account() -> None:
    """Camille MARTIN: password set, secret question set, CGU accepted, two trainings."""
    container = get_container()
    if container.accounts.find_by_email(READY.email) is not None:
        return
    now = datetime.now(UTC)
    account = Account(
        account_id=uuid.uuid4().hex,
        email=READY.email,
        family_name="MARTIN",
        given_names="Camille Louise",
        birth_date=date(1990, 5, 14),
        created_at=now - timedelta(days=30),
        password_hash=container.hasher.hash(READY.password),
        secret_question=READY.secret_question,
        secret_answer_hash=container.hasher.hash(normalise_secret_answer(READY.secret_answer)),
        terms_version=TERMS_VERSION,
    )
    first, *others = READY.dossiers
    if container.accounts.create(account, link_dossier=first) is not CreateOutcome.CREATED:
        raise RuntimeError("le compte de démo n'a pas pu être créé")
    for funder_code, dossier_number in others:
        container.dossiers.link_account(funder_code, dossier_number, account.account_id)
    container.terms.accept(account.account_id, TERMS_VERSION)
    # Created already past its first login: the funders' dashboards count it as activated, as
    # that login's last step would have.
    container.account_activations.account_activated(account)


def create_ready_staff_account() -> None:
    """Claire DURAND of « Institut de formation numérique »: answers Camille's messages."""
    container = get_container()
    if container.accounts.find_by_email(READY_STAFF.email) is not None:
        return
    now = datetime.now(UTC)
    account = Account(
        account_id=uuid.uuid4().hex,
        kind=AccountKind.STAFF,
        email=READY_STAFF.email,
        family_name="DURAND",
        given_names="Claire",
        birth_date=None,
        created_at=now - timedelta(days=30),
        password_hash=container.hasher.hash(READY_STAFF.password),
        secret_question=READY_STAFF.secret_question,
        secret_answer_hash=container.hasher.hash(
            normalise_secret_answer(READY_STAFF.secret_answer)
        ),
        terms_version=TERMS_VERSION,
        organisation_siret=READY_STAFF.siret,
        organisation_name=READY_STAFF.organisation_name,
    )
    if container.accounts.create(account) is not CreateOutcome.CREATED:
        raise RuntimeError("le compte de démo de l'organisme n'a pas pu être créé")
    container.messages.repository.add_staff_member(
        READY_STAFF.siret, account.account_id, READY_STAFF.email, now
    )
    container.terms.accept(account.account_id, TERMS_VERSION)
