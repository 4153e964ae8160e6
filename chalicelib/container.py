"""The composition root: the one place that chooses real implementations for the services.

It is the portal's `Ports` (DynamoDB, S3, SES, SQS, Secrets Manager, the stage's settings),
each made on first use, and inherits the services that `chalicelib.wiring` builds over them.
Faces (web, api, events) ask it for what they need; unit tests never import it, they build
the same services over fakes with `tests/support/builder.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.services.accounts.model import PortalUrls
from chalicelib.settings import Settings
from chalicelib.wiring import Services

if TYPE_CHECKING:
    from chalicelib.adapters.documents_bucket import S3DocumentFiles
    from chalicelib.adapters.exchange import ExchangeBucket
    from chalicelib.adapters.franceconnect import FranceConnectClient
    from chalicelib.adapters.hashing import Argon2Hasher
    from chalicelib.adapters.notification_queue import SqsNotificationQueue
    from chalicelib.services.accounts.sessions import Session, SessionWithTerms
    from chalicelib.services.mail.delivery import DeliveryGuard
    from chalicelib.services.trainings.documents import DocumentContent
    from chalicelib.store.accounts import DynamoAccountRepository
    from chalicelib.store.attestations import DynamoAttestationRepository
    from chalicelib.store.dashboard import DynamoDashboardCounters
    from chalicelib.store.dossiers import DynamoDossierRepository
    from chalicelib.store.erasure import DynamoErasureStore
    from chalicelib.store.franceconnect import DynamoFranceConnectLinks, DynamoIdentityDossiers
    from chalicelib.store.funder_api_keys import DynamoApiKeyRepository
    from chalicelib.store.funder_files import DynamoFileRecords
    from chalicelib.store.funder_lookups import DynamoConsultationJournal
    from chalicelib.store.funders import DynamoFunderRepository
    from chalicelib.store.messages import DynamoMessageRepository
    from chalicelib.store.payments import DynamoPaymentRepository
    from chalicelib.store.second_factor import DynamoSecondFactorRepository
    from chalicelib.store.security import (
        DynamoAuditLog,
        DynamoChallengeRepository,
        DynamoCounterRepository,
    )
    from chalicelib.store.sessions import DynamoSessionRepository
    from chalicelib.store.terms import DynamoTermsRepository
    from chalicelib.wiring import CaptchaDrawing


def now() -> datetime:
    return datetime.now(UTC)


def data_url(media_type: str, data: bytes) -> str:
    import base64

    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


@dataclass(frozen=True)
class IssuedCaptcha:
    captcha_id: str
    image_url: str  # data:image/png;base64,...
    audio_url: str  # the portal's path that redirects to the sound (services/security/captcha.py)


class LazyClient:
    """Stands for a boto3 client and makes it on the first attribute read."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:  # only for what the proxy itself lacks
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)


@cache
def get_settings() -> Settings:
    return Settings.from_environment()


class Container(Services):
    """The real ports; the services come from `Services` (chalicelib/wiring.py)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: dict[str, Any] = {}
        super().__init__(self)

    def client(self, service: str) -> Any:
        """One client per service and container, made when first used: building the login
        service (every signed-in page) takes the mailer, and an SES client costs a cold start
        60 ms that a page which sends nothing should not pay."""
        if service not in self._clients:
            self._clients[service] = LazyClient(lambda: self._make_client(service))
        return self._clients[service]

    def _make_client(self, service: str) -> Any:
        import boto3

        from chalicelib.adapters import unavailability

        return unavailability.watch(boto3.client(service, region_name=self.settings.aws_region))

    # Settings of the stage --------------------------------------------------------------------

    @cached_property
    def urls(self) -> PortalUrls:
        return PortalUrls(self.settings.public_base_url)

    @property
    def clock(self) -> Callable[[], datetime]:
        # Read at each call of the property: tests swap the module's `now` and rebuild.
        return now

    @property
    def rate_limit_multiplier(self) -> int:
        return self.settings.rate_limit_multiplier

    @property
    def captcha_test_answer(self) -> str | None:
        return self.settings.captcha_test_answer

    @property
    def franceconnect_on_stage(self) -> bool:
        return self.settings.franceconnect_configured

    # Stores -----------------------------------------------------------------------------------

    @cached_property
    def accounts(self) -> DynamoAccountRepository:
        from chalicelib.store.accounts import DynamoAccountRepository

        return DynamoAccountRepository()

    @cached_property
    def funders(self) -> DynamoFunderRepository:
        from chalicelib.store.funders import DynamoFunderRepository

        return DynamoFunderRepository()

    @cached_property
    def dossiers(self) -> DynamoDossierRepository:
        from chalicelib.store.dossiers import DynamoDossierRepository

        return DynamoDossierRepository()

    @cached_property
    def payments(self) -> DynamoPaymentRepository:
        from chalicelib.store.payments import DynamoPaymentRepository

        return DynamoPaymentRepository()

    @cached_property
    def session_store(self) -> DynamoSessionRepository:
        from chalicelib.store.sessions import DynamoSessionRepository

        return DynamoSessionRepository()

    @cached_property
    def second_factor_store(self) -> DynamoSecondFactorRepository:
        from chalicelib.store.second_factor import DynamoSecondFactorRepository

        return DynamoSecondFactorRepository()

    @cached_property
    def consultation_journal(self) -> DynamoConsultationJournal:
        from chalicelib.store.funder_lookups import DynamoConsultationJournal

        return DynamoConsultationJournal()

    @cached_property
    def counters(self) -> DynamoCounterRepository:
        from chalicelib.store.security import DynamoCounterRepository

        return DynamoCounterRepository()

    @cached_property
    def challenge_store(self) -> DynamoChallengeRepository:
        from chalicelib.store.security import DynamoChallengeRepository

        return DynamoChallengeRepository()

    @cached_property
    def terms_store(self) -> DynamoTermsRepository:
        from chalicelib.store.terms import DynamoTermsRepository

        return DynamoTermsRepository()

    @cached_property
    def attestation_store(self) -> DynamoAttestationRepository:
        from chalicelib.store.attestations import DynamoAttestationRepository

        return DynamoAttestationRepository()

    @cached_property
    def message_store(self) -> DynamoMessageRepository:
        from chalicelib.store.messages import DynamoMessageRepository

        return DynamoMessageRepository()

    @cached_property
    def erasure_store(self) -> DynamoErasureStore:
        from chalicelib.store.erasure import DynamoErasureStore

        return DynamoErasureStore()

    @cached_property
    def franceconnect_links(self) -> DynamoFranceConnectLinks:
        from chalicelib.store.franceconnect import DynamoFranceConnectLinks

        return DynamoFranceConnectLinks()

    @cached_property
    def identity_dossiers(self) -> DynamoIdentityDossiers:
        from chalicelib.store.franceconnect import DynamoIdentityDossiers

        return DynamoIdentityDossiers()

    # Adapters ---------------------------------------------------------------------------------

    @cached_property
    def hasher(self) -> Argon2Hasher:
        from chalicelib.adapters.hashing import Argon2Hasher

        return Argon2Hasher()

    @cached_property
    def audit(self) -> DynamoAuditLog:
        from chalicelib.observability import MeteredAuditLog
        from chalicelib.store.security import DynamoAuditLog

        return MeteredAuditLog(DynamoAuditLog())  # type: ignore[return-value]  # same interface

    @cached_property
    def mailer(self) -> DeliveryGuard:
        """SES behind the guard that keeps mails from an address that bounced or complained:
        every service gets this one, so none can forget the check."""
        from chalicelib.adapters.mail import SesMailer
        from chalicelib.observability import count
        from chalicelib.services.mail.delivery import DeliveryGuard

        ses = SesMailer(
            self.client("ses"), self.settings.mail_sender, self.settings.mail_configuration_set
        )
        return DeliveryGuard(
            ses,
            self.accounts,
            on_suppressed=lambda category: count(f"MailSuppressed{category.value.capitalize()}"),
        )

    @cached_property
    def exchange(self) -> ExchangeBucket:
        from chalicelib.adapters.exchange import ExchangeBucket

        return ExchangeBucket(self.client("s3"), self.settings.exchange_bucket)

    @cached_property
    def documents_files(self) -> S3DocumentFiles:
        from chalicelib.adapters.documents_bucket import S3DocumentFiles

        return S3DocumentFiles(self.client("s3"), self.settings.documents_bucket)

    @cached_property
    def notification_queue(self) -> SqsNotificationQueue:
        from chalicelib.adapters.notification_queue import SqsNotificationQueue

        return SqsNotificationQueue(self.client("sqs"), self.settings.notifications_queue)

    @cached_property
    def security_mail_queue(self) -> SqsNotificationQueue:
        from chalicelib.adapters.notification_queue import SqsNotificationQueue

        return SqsNotificationQueue(self.client("sqs"), self.settings.security_mails_queue)

    @property
    def render_pdf(self) -> Callable[[DocumentContent], bytes]:
        from chalicelib.adapters.pdf import render_pdf

        return render_pdf

    @cached_property
    def on_pdf_served(self) -> Callable[[], None]:
        from chalicelib.observability import count

        return lambda: count("PdfServed")

    @cached_property
    def session_with_terms(self) -> SessionWithTerms:
        """The session and the current CGU version in one BatchGetItem (a cold page's read)."""
        from chalicelib.adapters import unavailability
        from chalicelib.store.sessions import BatchReadIncomplete

        store = self.session_store

        def read(token_hash: str) -> tuple[Session | None, str | None]:
            try:
                return store.get_with_current_terms(token_hash)
            except BatchReadIncomplete:
                # DynamoDB answered, but left keys unread after the retries: the page says
                # « service indisponible, réessayez » (503), as for a throttled call.
                unavailability.note("DynamoDB BatchGetItem: UnprocessedKeys after retries")
                raise

        return read

    @cached_property
    def file_records(self) -> DynamoFileRecords:
        from chalicelib.store.funder_files import DynamoFileRecords

        return DynamoFileRecords()

    @cached_property
    def dashboard_counters(self) -> DynamoDashboardCounters:
        from chalicelib.store.dashboard import DynamoDashboardCounters

        return DynamoDashboardCounters()

    @cached_property
    def api_key_store(self) -> DynamoApiKeyRepository:
        from chalicelib.store.funder_api_keys import DynamoApiKeyRepository

        return DynamoApiKeyRepository()

    @property
    def captcha_drawing(self) -> CaptchaDrawing:
        from chalicelib.adapters import captcha

        return captcha  # type: ignore[return-value]  # the module has the three functions

    def qr_modules(self, text: str) -> list[list[bool]]:
        """The dark and light modules of a QR code holding `text` (the attestations' QR code,
        drawn by the PDF adapter), for pages that draw one themselves."""
        from chalicelib.adapters.pdf import qr_modules

        return qr_modules(text)

    def issue_captcha(self, client_ip: str | None) -> IssuedCaptcha:
        """A new signup captcha: its image as a data: URL to embed, nothing binary goes through
        API Gateway (docs/specs/architecture.md, D9); its sound, 110 KB, only behind a link, made
        when someone follows it. Raises `RateLimited` past the address's allowance."""
        issued = self.captchas.issue(client_ip)
        return IssuedCaptcha(
            captcha_id=issued.captcha_id,
            image_url=data_url("image/png", issued.image_png),
            audio_url=issued.audio_path,
        )

    # FranceConnect ----------------------------------------------------------------------------

    @cached_property
    def franceconnect_provider(self) -> FranceConnectClient | None:
        """Our OIDC client, or None when this stage has no FranceConnect settings."""
        settings = self.settings
        if not settings.franceconnect_configured or settings.franceconnect_client_id is None:
            return None
        from chalicelib.adapters.franceconnect import ClientSettings, FranceConnectClient

        return FranceConnectClient(
            ClientSettings(
                base_url=settings.franceconnect_url or "",
                client_id=settings.franceconnect_client_id,
                redirect_uri=settings.franceconnect_redirect_uri,
                post_logout_redirect_uri=settings.franceconnect_post_logout_redirect_uri,
            ),
            client_secret=self.franceconnect_client_secret,
        )

    def franceconnect_client_secret(self) -> str:
        """From Secrets Manager in AWS; from the environment only in the local and test stages."""
        if self.settings.franceconnect_client_secret:
            return self.settings.franceconnect_client_secret
        answer = self.client("secretsmanager").get_secret_value(
            SecretId=self.settings.franceconnect_secret_name
        )
        return str(answer["SecretString"])


@cache
def get_container() -> Container:
    settings = get_settings()
    from chalicelib.store.models import bind_tables

    bind_tables(settings.table_prefix, settings.aws_region)
    return Container(settings=settings)


def reset_container() -> None:
    """Forget settings and clients (tests, local stack) after a change of environment."""
    get_settings.cache_clear()
    get_container.cache_clear()
