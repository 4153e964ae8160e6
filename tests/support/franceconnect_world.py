"""The FranceConnect login service wired to in-memory fakes, for its unit tests."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from chalicelib.services.accounts.model import Account
from chalicelib.services.franceconnect.identity import CallbackResult
from chalicelib.services.franceconnect.login import FranceConnectLogin
from chalicelib.services.funder_files.model import DossierStatus
from chalicelib.services.trainings.dossiers import Dossier
from tests.support.builder import build
from tests.support.fakes import (
    FakeClock,
    MemoryAccounts,
    MemoryAudit,
    MemoryChallenges,
    MemoryDossierLookup,
    MemorySessions,
    PlainTestHasher,
    RecordingMailer,
)
from tests.support.franceconnect import (
    FakeIdentityProvider,
    MemoryFranceConnectLinks,
)

START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
IP = "192.0.2.7"
FUNDER = "region-idf"
SUB = "a" * 64 + "v1"
PASSWORD = "Pluie-Soleil-Nuage-42"
HASHER = PlainTestHasher()
ANGELA = {
    "sub": SUB,
    "given_name": "Angela Claire Louise",
    "family_name": "DUBOIS",
    "birthdate": "1962-08-24",
    "gender": "female",
    "birthplace": "75107",
    "birthcountry": "99100",
    "email": "angela.dubois@example.fr",
}


def dossier(number: str = "IDF-2026-000456", **changes: object) -> Dossier:
    base = Dossier(
        funder_code=FUNDER,
        dossier_number=number,
        family_name="DUBOIS",
        given_names="Angela Claire Louise",
        birth_date=date(1962, 8, 24),
        email="angela.dubois@example.fr",
        training_code="AIDE-SOIN",
        training_title="Aide-soignant",
        start_date=date(2026, 9, 4),
        end_date=date(2027, 6, 30),
        organisation_siret="13476182522257",
        organisation_name="CFSS",
        organisation_email=None,
        monthly_rate=Decimal("685.00"),
        decision_date=date(2026, 8, 20),
        status=DossierStatus.IN_PROGRESS,
    )
    return replace(base, **changes)


def account(account_id: str = "acc-1", **changes: object) -> Account:
    base = Account(
        account_id=account_id,
        email="angela.dubois@example.fr",
        family_name="Dubois",
        given_names="Angela",
        birth_date=date(1962, 8, 24),
        created_at=START,
        password_hash=HASHER.hash(PASSWORD),
        secret_question="Ville ?",
        secret_answer_hash=HASHER.hash("paris"),
        terms_version="v1",
    )
    return base.updated(**changes)


@dataclass
class World:
    service: FranceConnectLogin
    provider: FakeIdentityProvider
    accounts: MemoryAccounts
    dossiers: MemoryDossierLookup
    links: MemoryFranceConnectLinks
    challenges: MemoryChallenges
    sessions: MemorySessions
    audit: MemoryAudit
    mailer: RecordingMailer

    def callback(self, claims: dict[str, object] | None = None, **params: str) -> CallbackResult:
        """Start at FUNDER, come back from the provider with these claims."""
        self.provider.claims = {**ANGELA, **(claims or {})}
        started = self.service.start(params.pop("funder", FUNDER), "192.0.2.1")
        assert started is not None
        state = re.search(r"state=([0-9a-f]+)", started.url).group(1)  # type: ignore[union-attr]
        return self.service.finish(
            state=params.get("state", state),
            code=params.get("code", "code-1"),
            error=params.get("error", ""),
            browser_secret=params.get("secret", started.browser_secret),
            client_ip=IP,
        )


def make_world() -> World:
    built = build(clock=FakeClock(START), hasher=HASHER)
    built.terms.publish("v1", "CGU")
    ports = built.ports
    return World(
        built.franceconnect_login,
        ports.franceconnect_provider,
        ports.accounts,
        ports.dossiers,
        ports.franceconnect_links,
        ports.challenge_store,
        ports.session_store,
        ports.audit,
        ports.mailer,
    )
