"""The composition root: the one place that chooses real implementations for the services.

Faces (web, api, events) ask it for what they need; unit tests never import it, they hand
fakes to the services directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.services.accounts.model import PortalUrls
from chalicelib.settings import Settings

if TYPE_CHECKING:
    from chalicelib.adapters.documents_bucket import S3DocumentFiles
    from chalicelib.adapters.exchange import ExchangeBucket
    from chalicelib.adapters.franceconnect import FranceConnectClient
    from chalicelib.adapters.hashing import Argon2Hasher
    from chalicelib.adapters.notification_queue import SqsNotificationQueue
    from chalicelib.services.accounts.login import Login
    from chalicelib.services.accounts.my_account import AccountSettings
    from chalicelib.services.accounts.personal_data import PersonalData
    from chalicelib.services.accounts.recovery import Recovery
    from chalicelib.services.accounts.retention import (
        AccountClosure,
        DossierWithdrawal,
        InactivityJob,
        RetentionPurge,
    )
    from chalicelib.services.accounts.sessions import Sessions
    from chalicelib.services.accounts.signup import Signup
    from chalicelib.services.accounts.terms import Terms
    from chalicelib.services.accounts.totp import TotpService
    from chalicelib.services.franceconnect.login import FranceConnectLogin
    from chalicelib.services.funder_files.ingestion import FunderFileIngestion
    from chalicelib.services.funders.api_keys import FunderApiKeys
    from chalicelib.services.funders.dashboard import FunderDashboard
    from chalicelib.services.funders.files import FileTracking, FunderFiles
    from chalicelib.services.funders.lookup import DossierLookup, TraineeConsultations
    from chalicelib.services.funders.settings import FunderSettings
    from chalicelib.services.funders.uploads import FunderUploads
    from chalicelib.services.mail.delivery import DeliveryGuard, MailDelivery
    from chalicelib.services.mail.notifications import NewPaymentNotifier
    from chalicelib.services.messages.my_messages import Messages
    from chalicelib.services.security.captcha import Captchas
    from chalicelib.services.security.challenges import Challenges
    from chalicelib.services.security.throttling import LoginThrottle, RateLimiter
    from chalicelib.services.trainings.attestations import Attestations
    from chalicelib.services.trainings.document_delivery import DocumentDelivery
    from chalicelib.services.trainings.dossier_claims import DossierClaims
    from chalicelib.services.trainings.my_trainings import Trainings
    from chalicelib.store.accounts import DynamoAccountRepository
    from chalicelib.store.dossiers import DynamoDossierRepository
    from chalicelib.store.funder_files import DynamoDashboardCounters, DynamoFileRecords
    from chalicelib.store.funder_lookups import DynamoConsultationJournal
    from chalicelib.store.funders import DynamoFunderRepository
    from chalicelib.store.payments import DynamoPaymentRepository
    from chalicelib.store.security import DynamoAuditLog, DynamoCounterRepository


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


@dataclass
class Container:
    settings: Settings
    _clients: dict[str, Any] = field(default_factory=dict)

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
    def exchange(self) -> ExchangeBucket:
        from chalicelib.adapters.exchange import ExchangeBucket

        return ExchangeBucket(self.client("s3"), self.settings.exchange_bucket)

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
    def mail_delivery(self) -> MailDelivery:
        from chalicelib.services.mail.delivery import MailDelivery

        return MailDelivery(self.accounts, self.audit)

    def funder_file_ingestion(self) -> FunderFileIngestion:
        from chalicelib.services.funder_files.ingestion import FunderFileIngestion
        from chalicelib.services.trainings.account_linking import AccountLinker

        return FunderFileIngestion(
            funders=self.funders,
            dossiers=self.dossiers,
            payments=self.payments,
            clock=now,
            linker=AccountLinker(self.accounts, self.mailer, self.audit, self.urls),
            notifications=self.notification_queue,
            withdrawal=self.dossier_withdrawal,
            counters=self.dashboard_counters,
        )

    @cached_property
    def file_records(self) -> DynamoFileRecords:
        from chalicelib.store.funder_files import DynamoFileRecords

        return DynamoFileRecords()

    @cached_property
    def dashboard_counters(self) -> DynamoDashboardCounters:
        from chalicelib.store.funder_files import DynamoDashboardCounters

        return DynamoDashboardCounters()

    @cached_property
    def file_tracking(self) -> FileTracking:
        from chalicelib.services.funders.files import FileTracking

        return FileTracking(self.file_records, self.dashboard_counters)

    @cached_property
    def funder_files(self) -> FunderFiles:
        from chalicelib.services.funders.files import FunderFiles

        return FunderFiles(self.file_records, self.exchange)

    @cached_property
    def funder_dashboard(self) -> FunderDashboard:
        from chalicelib.services.funders.dashboard import FunderDashboard

        return FunderDashboard(self.dashboard_counters, now)

    @cached_property
    def funder_uploads(self) -> FunderUploads:
        from chalicelib.services.funders.uploads import FunderUploads

        return FunderUploads(self.exchange, now)

    @cached_property
    def notification_queue(self) -> SqsNotificationQueue:
        from chalicelib.adapters.notification_queue import SqsNotificationQueue

        return SqsNotificationQueue(self.client("sqs"), self.settings.notifications_queue)

    @cached_property
    def security_mail_queue(self) -> SqsNotificationQueue:
        from chalicelib.adapters.notification_queue import SqsNotificationQueue

        return SqsNotificationQueue(self.client("sqs"), self.settings.security_mails_queue)

    @cached_property
    def new_payment_notifier(self) -> NewPaymentNotifier:
        from chalicelib.services.mail.notifications import NewPaymentNotifier

        return NewPaymentNotifier(
            self.payments,
            self.dossiers,
            self.accounts,
            self.mailer,
            self.urls,
            counters=self.dashboard_counters,
            delivery=self.accounts,
            clock=now,
        )

    # Accounts, sessions and their safeguards ------------------------------------------------

    @cached_property
    def urls(self) -> PortalUrls:
        return PortalUrls(self.settings.public_base_url)

    @cached_property
    def accounts(self) -> DynamoAccountRepository:
        from chalicelib.store.accounts import DynamoAccountRepository

        return DynamoAccountRepository()

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
    def counters(self) -> DynamoCounterRepository:
        from chalicelib.store.security import DynamoCounterRepository

        return DynamoCounterRepository()

    @cached_property
    def funder_api_keys(self) -> FunderApiKeys:
        from chalicelib.services.funders.api_keys import FunderApiKeys
        from chalicelib.store.funder_api_keys import DynamoApiKeyRepository

        return FunderApiKeys(DynamoApiKeyRepository(), self.funders, self.counters, self.audit, now)

    @cached_property
    def login_throttle(self) -> LoginThrottle:
        """One set of counters: wrong passwords and wrong secret answers delay alike."""
        from chalicelib.services.security.throttling import LoginThrottle

        return LoginThrottle(self.counters, now)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        from chalicelib.services.security.throttling import RateLimiter

        return RateLimiter(self.counters, now, self.settings.rate_limit_multiplier)

    @cached_property
    def challenges(self) -> Challenges:
        from chalicelib.services.security.challenges import Challenges
        from chalicelib.store.security import DynamoChallengeRepository

        return Challenges(DynamoChallengeRepository(), now, self.settings.captcha_test_answer)

    @cached_property
    def captchas(self) -> Captchas:
        from chalicelib.adapters import captcha
        from chalicelib.services.security.captcha import Captchas

        return Captchas(
            self.challenges,
            self.documents_files,
            captcha.generate_code,
            captcha.render_image,
            captcha.render_audio,
        )

    def qr_modules(self, text: str) -> list[list[bool]]:
        """The dark and light modules of a QR code holding `text` (the attestations' QR code,
        drawn by the PDF adapter), for pages that draw one themselves."""
        from chalicelib.adapters.pdf import qr_modules

        return qr_modules(text)

    def issue_captcha(self) -> IssuedCaptcha:
        """A new signup captcha: its image as a data: URL to embed, nothing binary goes through
        API Gateway (docs/specs/architecture.md, D9); its sound, 110 KB, only behind a link, made
        when someone follows it."""
        issued = self.captchas.issue()
        return IssuedCaptcha(
            captcha_id=issued.captcha_id,
            image_url=data_url("image/png", issued.image_png),
            audio_url=issued.audio_path,
        )

    @cached_property
    def sessions(self) -> Sessions:
        from chalicelib.services.accounts.sessions import Sessions
        from chalicelib.store.sessions import DynamoSessionRepository

        # The unread messages count rides on the session: taken at login, so no page pays for it.
        repository = DynamoSessionRepository()
        return Sessions(
            repository,
            now,
            unread_of=lambda a: self.messages.unread_snapshot(a),
            terms=self.terms,
            with_terms=repository.get_with_current_terms,
        )

    @cached_property
    def terms(self) -> Terms:
        from chalicelib.services.accounts.terms import Terms
        from chalicelib.store.terms import DynamoTermsRepository

        return Terms(DynamoTermsRepository(), now)

    @cached_property
    def signup(self) -> Signup:
        from chalicelib.services.accounts.signup import Signup

        return Signup(
            accounts=self.accounts,
            dossiers=self.dossiers,
            challenges=self.challenges,
            hasher=self.hasher,
            mailer=self.mailer,
            audit=self.audit,
            urls=self.urls,
            clock=now,
            owner_alert=self.dossier_claims.tell_owner,
        )

    @cached_property
    def login(self) -> Login:
        from chalicelib.services.accounts.login import Login

        return Login(
            accounts=self.accounts,
            sessions=self.sessions,
            throttle=self.login_throttle,
            hasher=self.hasher,
            terms=self.terms,
            audit=self.audit,
            mailer=self.mailer,
            urls=self.urls,
            clock=now,
        )

    @cached_property
    def totp(self) -> TotpService:
        """The second factor: its tries delay as the passwords' do (same counters, own key)."""
        from chalicelib.services.accounts.totp import TotpService
        from chalicelib.store.second_factor import DynamoSecondFactorRepository

        return TotpService(
            accounts=self.accounts,
            store=DynamoSecondFactorRepository(),
            sessions=self.sessions,
            throttle=self.login_throttle,
            audit=self.audit,
            current_terms_version=self.terms.current_version,
            clock=now,
        )

    @cached_property
    def funder_settings(self) -> FunderSettings:
        from chalicelib.services.funders.settings import FunderSettings

        return FunderSettings(
            self.funders, self.audit, franceconnect_on_stage=self.settings.franceconnect_configured
        )

    # Mes formations -------------------------------------------------------------------------

    @cached_property
    def trainings(self) -> Trainings:
        from chalicelib.services.trainings.my_trainings import Trainings

        return Trainings(self.dossiers, self.payments, self.funders, now, self.urls)

    @cached_property
    def dossier_claims(self) -> DossierClaims:
        """« Ajouter un dossier » on a proof; the address's allowance widens with the stage's
        rate-limit multiplier (local and test journeys all come from one address)."""
        from chalicelib.services.trainings.dossier_claims import (
            ADDRESS_FREE_ATTEMPTS,
            ClaimThrottle,
            DossierClaims,
        )

        throttle = ClaimThrottle(
            self.counters, now, ADDRESS_FREE_ATTEMPTS * self.settings.rate_limit_multiplier
        )
        return DossierClaims(
            dossiers=self.dossiers,
            accounts=self.accounts,
            challenges=self.challenges,
            throttle=throttle,
            funders=self.trainings.funders,
            mailer=self.mailer,
            audit=self.audit,
            urls=self.urls,
        )

    @cached_property
    def attestations(self) -> Attestations:
        from chalicelib.services.trainings.attestations import Attestations
        from chalicelib.store.attestations import DynamoAttestationRepository

        return Attestations(
            self.trainings,
            self.payments,
            DynamoAttestationRepository(),
            now,
            self.urls.path("/verifier"),
            self.audit,
            self.rate_limiter,
        )

    @cached_property
    def document_delivery(self) -> DocumentDelivery:
        from chalicelib.adapters.pdf import render_pdf
        from chalicelib.observability import count
        from chalicelib.services.trainings.document_delivery import DocumentDelivery

        return DocumentDelivery(
            self.documents_files,
            render_pdf,
            on_served=lambda: count("PdfServed"),
        )

    @cached_property
    def personal_data(self) -> PersonalData:
        from chalicelib.services.accounts.personal_data import PersonalData

        return PersonalData(
            accounts=self.accounts,
            dossiers=self.dossiers,
            payments_of=self.payments.list_for_dossier,
            acceptances_of=self.terms.repository.acceptances,
            audit_trail=self.audit,
            audit=self.audit,
            clock=now,
            extra_sections={
                "messages": lambda account_id: self.messages.export(account_id),
                "distribution_des_courriels": self._mail_delivery_export,
                "consultations_par_votre_financeur": self.trainee_consultations.of_account,
            },
        )

    # « Rechercher un dossier » of the funders' space (issue 18) -----------------------------

    @cached_property
    def consultation_journal(self) -> DynamoConsultationJournal:
        from chalicelib.store.funder_lookups import DynamoConsultationJournal

        return DynamoConsultationJournal()

    @cached_property
    def dossier_lookup(self) -> DossierLookup:
        from chalicelib.services.funders.lookup import DossierLookup

        return DossierLookup(
            dossiers=self.dossiers,
            payments=self.payments,
            accounts=self.accounts,
            delivery=self.accounts,
            journal=self.consultation_journal,
            audit=self.audit,
            limiter=self.rate_limiter,
            clock=now,
        )

    @cached_property
    def trainee_consultations(self) -> TraineeConsultations:
        from chalicelib.services.funders.lookup import TraineeConsultations

        return TraineeConsultations(self.dossiers, self.consultation_journal, self.funders)

    def _mail_delivery_export(self, account_id: str) -> list[dict[str, str | None]]:
        account = self.accounts.get(account_id)
        return self.mail_delivery.export(account.email) if account else []

    # « Mot de passe oublié » and « Mon compte » ----------------------------------------------

    @cached_property
    def recovery(self) -> Recovery:
        from chalicelib.services.accounts.recovery import Recovery
        from chalicelib.store.security import DynamoChallengeRepository

        return Recovery(
            accounts=self.accounts,
            challenges=self.challenges,
            challenge_store=DynamoChallengeRepository(),
            queue=self.security_mail_queue,
            sessions=self.sessions,
            # The same counters as the login's: a wrong secret answer counts as a login failure.
            throttle=self.login_throttle,
            hasher=self.hasher,
            mailer=self.mailer,
            audit=self.audit,
            urls=self.urls,
            clock=now,
        )

    @cached_property
    def account_settings(self) -> AccountSettings:
        from chalicelib.services.accounts.my_account import AccountSettings

        return AccountSettings(
            accounts=self.accounts,
            dossiers=self.dossiers,
            challenges=self.challenges,
            sessions=self.sessions,
            throttle=self.login_throttle,
            hasher=self.hasher,
            mailer=self.mailer,
            audit=self.audit,
            urls=self.urls,
        )

    # Retention: closing an account, inactive accounts, a funder's withdrawal -----------------

    @cached_property
    def documents_files(self) -> S3DocumentFiles:
        from chalicelib.adapters.documents_bucket import S3DocumentFiles

        return S3DocumentFiles(self.client("s3"), self.settings.documents_bucket)

    @cached_property
    def account_closure(self) -> AccountClosure:
        from chalicelib.services.accounts.retention import AccountClosure
        from chalicelib.store.erasure import DynamoErasureStore
        from chalicelib.store.sessions import DynamoSessionRepository

        return AccountClosure(
            accounts=self.accounts,
            store=DynamoErasureStore(),
            sessions=DynamoSessionRepository(),
            login_counters=self.login_throttle,
            documents=self.documents_files,
            credentials=self.account_settings,
            mailer=self.mailer,
            audit=self.audit,
            urls=self.urls,
        )

    def inactivity_job(self) -> InactivityJob:
        from chalicelib.services.accounts.retention import InactivityJob

        return InactivityJob(
            accounts=self.accounts,
            index=self.accounts,
            closure=self.account_closure,
            mailer=self.mailer,
            audit=self.audit,
            urls=self.urls,
            clock=now,
        )

    def retention_purge(self) -> RetentionPurge:
        from chalicelib.services.accounts.retention import RetentionPurge
        from chalicelib.store.erasure import DynamoErasureStore

        return RetentionPurge(
            self.funders, DynamoErasureStore(), self.documents_files, self.audit, now
        )

    @cached_property
    def dossier_withdrawal(self) -> DossierWithdrawal:
        from chalicelib.services.accounts.retention import DossierWithdrawal
        from chalicelib.store.erasure import DynamoErasureStore

        return DossierWithdrawal(
            accounts=self.accounts,
            store=DynamoErasureStore(),
            documents=self.documents_files,
            mailer=self.mailer,
            audit=self.audit,
            urls=self.urls,
        )

    # FranceConnect ----------------------------------------------------------------------------

    @cached_property
    def franceconnect_client(self) -> FranceConnectClient | None:
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

    @cached_property
    def franceconnect_login(self) -> FranceConnectLogin:
        from chalicelib.services.franceconnect.login import FranceConnectLogin
        from chalicelib.store.franceconnect import DynamoFranceConnectLinks, DynamoIdentityDossiers

        return FranceConnectLogin(
            provider=self.franceconnect_client,
            challenges=self.challenges,
            login=self.login,
            links=DynamoFranceConnectLinks(),
            dossiers=DynamoIdentityDossiers(),
            audit=self.audit,
            mailer=self.mailer,
            clock=now,
            urls=self.urls,
        )

    # « Mes messages » and the organisations' space --------------------------------------------

    @cached_property
    def messages(self) -> Messages:
        from chalicelib.services.messages.my_messages import Messages
        from chalicelib.store.messages import DynamoMessageRepository
        from chalicelib.store.sessions import DynamoSessionRepository

        return Messages(
            repository=DynamoMessageRepository(),
            dossiers=self.dossiers,
            accounts=self.accounts,
            # The same five-minute cache as « Mes formations »: no page spends a request on it.
            funders=self.trainings.funders,
            sessions=DynamoSessionRepository(),
            mailer=self.mailer,
            urls=self.urls,
            clock=now,
        )


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
