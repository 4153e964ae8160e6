"""The portal's services over fakes, wired by the same `Services` as the container.

    world = build(clock=FakeClock(START), hasher=CountingHasher())
    world.login.log_in(...)            # the services, as `get_container()` has them
    world.ports.mailer.sent            # the fakes they were given

Every port has an in-memory default from `tests/support/fakes.py`; a test overrides only the
ones it sets up or inspects. Defaults follow the overrides they depend on: the counters read
the given clock, the accounts link dossiers in the given lookup, the messages store publishes
to the given sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from chalicelib.services.accounts.model import PortalUrls
from chalicelib.services.trainings.documents import DocumentContent
from chalicelib.wiring import Services
from tests.support.fakes import (
    FakeClock,
    MemoryAccounts,
    MemoryAttestations,
    MemoryAudit,
    MemoryChallenges,
    MemoryConsultationJournal,
    MemoryCounters,
    MemoryDocuments,
    MemoryDossierLookup,
    MemoryErasure,
    MemoryFunders,
    MemoryMessages,
    MemoryPayments,
    MemorySecondFactors,
    MemoryTerms,
    MemoryUnreadSessions,
    PlainTestHasher,
    RecordingMailer,
    RecordingQueue,
)
from tests.support.franceconnect import (
    FakeIdentityProvider,
    MemoryFranceConnectLinks,
    MemoryIdentityDossiers,
)
from tests.support.funder_fakes import (
    MemoryApiKeys,
    MemoryDashboardCounters,
    MemoryFileRecords,
    MemoryReports,
)

PORTAL = "https://portail.example.gouv.fr"


def fake_pdf(content: DocumentContent) -> bytes:
    """A recognisable body per document: the delivery tests check what was stored, not a PDF."""
    return f"%PDF fake {type(content).__name__}".encode()


class FakeCaptchaDrawing:
    """Numbered codes, and an image and a sound that spell them out as text."""

    def __init__(self) -> None:
        self.issued = 0
        self.sounds: list[str] = []  # codes whose sound was made, in order

    def generate_code(self) -> str:
        self.issued += 1
        return f"{self.issued:06d}"

    def render_image(self, code: str) -> bytes:
        return f"PNG {code}".encode()

    def render_audio(self, code: str) -> bytes:
        self.sounds.append(code)
        return f"WAV {code}".encode()


@dataclass
class FakePorts:
    """What `chalicelib.wiring.Ports` asks for, as plain attributes holding fakes."""

    urls: PortalUrls
    clock: FakeClock
    rate_limit_multiplier: int
    captcha_test_answer: str | None
    franceconnect_on_stage: bool
    accounts: Any
    dossiers: Any
    payments: Any
    funders: Any
    session_store: Any
    session_with_terms: Any
    counters: Any
    consultation_journal: Any
    second_factor_store: Any
    challenge_store: Any
    terms_store: Any
    attestation_store: Any
    message_store: Any
    erasure_store: Any
    franceconnect_links: Any
    identity_dossiers: Any
    api_key_store: Any
    hasher: Any
    audit: Any
    mailer: Any
    security_mail_queue: Any
    notification_queue: Any
    documents_files: Any
    franceconnect_provider: Any
    render_pdf: Callable[[DocumentContent], bytes]
    on_pdf_served: Callable[[], None]
    captcha_drawing: Any
    file_records: Any
    dashboard_counters: Any
    exchange: Any


PORT_NAMES = frozenset(port.name for port in fields(FakePorts))


class Built(Services):
    """The services, and the fakes behind them under `ports`."""

    ports: FakePorts


def build(**overrides: Any) -> Built:
    """The services over fakes; any port given by name replaces its default."""
    unknown = set(overrides) - PORT_NAMES
    if unknown:
        raise TypeError(f"not a port: {sorted(unknown)}")

    def port(name: str, default: Callable[[], Any]) -> Any:
        return overrides[name] if name in overrides else default()

    clock = port("clock", FakeClock)
    dossiers = port("dossiers", MemoryDossierLookup)
    lookup = dossiers if isinstance(dossiers, MemoryDossierLookup) else None
    accounts = port("accounts", lambda: MemoryAccounts(lookup))
    session_store = port("session_store", MemoryUnreadSessions)
    unread_sessions = session_store if isinstance(session_store, MemoryUnreadSessions) else None
    terms_store = port("terms_store", MemoryTerms)
    ports = FakePorts(
        urls=port("urls", lambda: PortalUrls(PORTAL)),
        clock=clock,
        rate_limit_multiplier=port("rate_limit_multiplier", lambda: 1),
        captcha_test_answer=port("captcha_test_answer", lambda: None),
        franceconnect_on_stage=port("franceconnect_on_stage", lambda: False),
        accounts=accounts,
        dossiers=dossiers,
        payments=port("payments", MemoryPayments),
        funders=port("funders", MemoryFunders),
        session_store=session_store,
        # What DynamoDB's BatchGetItem reads at once: the session, and the current CGU version.
        session_with_terms=port(
            "session_with_terms",
            lambda: (
                lambda token_hash: (session_store.get(token_hash), terms_store.current_version())
            ),
        ),
        counters=port("counters", lambda: MemoryCounters(clock)),
        consultation_journal=port("consultation_journal", MemoryConsultationJournal),
        second_factor_store=port("second_factor_store", MemorySecondFactors),
        challenge_store=port("challenge_store", MemoryChallenges),
        terms_store=terms_store,
        attestation_store=port("attestation_store", MemoryAttestations),
        message_store=port("message_store", lambda: MemoryMessages(unread_sessions)),
        erasure_store=port("erasure_store", lambda: MemoryErasure(accounts, [])),
        franceconnect_links=port("franceconnect_links", MemoryFranceConnectLinks),
        identity_dossiers=port(
            "identity_dossiers", lambda: MemoryIdentityDossiers(lookup or MemoryDossierLookup())
        ),
        api_key_store=port("api_key_store", MemoryApiKeys),
        hasher=port("hasher", PlainTestHasher),
        audit=port("audit", MemoryAudit),
        mailer=port("mailer", RecordingMailer),
        security_mail_queue=port("security_mail_queue", RecordingQueue),
        notification_queue=port("notification_queue", RecordingQueue),
        documents_files=port("documents_files", MemoryDocuments),
        franceconnect_provider=port("franceconnect_provider", FakeIdentityProvider),
        render_pdf=port("render_pdf", lambda: fake_pdf),
        on_pdf_served=port("on_pdf_served", lambda: lambda: None),
        captcha_drawing=port("captcha_drawing", FakeCaptchaDrawing),
        file_records=port("file_records", MemoryFileRecords),
        dashboard_counters=port("dashboard_counters", MemoryDashboardCounters),
        exchange=port("exchange", MemoryReports),
    )
    return Built(ports)
