"""How the services are put together, whatever implements their ports.

`Services(ports)` is the one wiring of the portal: the composition root
(`chalicelib/container.py`, a `Services` over its own ports) hands it DynamoDB, S3, SES and SQS;
the unit tests (`tests/support/builder.py`) hand it the fakes of `tests/support/fakes.py`.
A service that gains or loses a collaborator changes here, once, and both sides follow.

Services are built on first use and then kept: a Lambda that only serves « Mes formations »
never creates the FranceConnect client nor the SQS ones.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.services.accounts.login import Login
    from chalicelib.services.accounts.model import (
        AccountRepository,
        AuditLog,
        Clock,
        Hasher,
        PortalUrls,
    )
    from chalicelib.services.accounts.my_account import AccountSettings
    from chalicelib.services.accounts.personal_data import PersonalData
    from chalicelib.services.accounts.recovery import ChallengeStore, Recovery, RecoveryQueue
    from chalicelib.services.accounts.retention import (
        AccountClosure,
        DossierWithdrawal,
        ErasureStore,
        InactivityJob,
        RetentionPurge,
    )
    from chalicelib.services.accounts.sessions import (
        SessionRepository,
        Sessions,
        SessionWithTerms,
    )
    from chalicelib.services.accounts.signup import Signup
    from chalicelib.services.accounts.staff import StaffInvitations
    from chalicelib.services.accounts.terms import Terms, TermsRepository
    from chalicelib.services.accounts.totp import SecondFactorRepository, TotpService
    from chalicelib.services.franceconnect.identity import (
        FranceConnectLinks,
        IdentityDossiers,
        IdentityProvider,
    )
    from chalicelib.services.franceconnect.login import FranceConnectLogin
    from chalicelib.services.funder_files.ingestion import FunderFileIngestion
    from chalicelib.services.funders.activations import AccountActivations
    from chalicelib.services.funders.api_keys import ApiKeyRepository, FunderApiKeys
    from chalicelib.services.funders.dashboard import DashboardCounters, FunderDashboard
    from chalicelib.services.funders.files import (
        FileRecordRepository,
        FileTracking,
        FunderFiles,
        ReportReader,
    )
    from chalicelib.services.funders.lookup import (
        ConsultationJournal,
        DossierLookup,
        TraineeConsultations,
    )
    from chalicelib.services.funders.model import FunderRepository
    from chalicelib.services.funders.settings import FunderSettings
    from chalicelib.services.funders.staff import FunderStaff
    from chalicelib.services.funders.uploads import FunderUploads, UploadSigner
    from chalicelib.services.mail.delivery import MailDelivery
    from chalicelib.services.mail.mails import Mailer
    from chalicelib.services.mail.notifications import (
        NewPaymentNotifier,
        NotificationQueue,
        PaymentMailBounces,
    )
    from chalicelib.services.messages.my_messages import Messages
    from chalicelib.services.messages.threads import MessageRepository
    from chalicelib.services.messages.unread import UnreadCounts
    from chalicelib.services.security.captcha import Captchas
    from chalicelib.services.security.challenges import Challenges
    from chalicelib.services.security.safeguards import Safeguards
    from chalicelib.services.security.throttling import (
        CounterRepository,
        LoginThrottle,
        RateLimiter,
    )
    from chalicelib.services.trainings.attestations import AttestationRepository, Attestations
    from chalicelib.services.trainings.document_delivery import DocumentDelivery, DocumentFiles
    from chalicelib.services.trainings.documents import DocumentContent
    from chalicelib.services.trainings.dossier_claims import DossierClaims
    from chalicelib.services.trainings.dossiers import DossierRepository
    from chalicelib.services.trainings.my_trainings import Trainings
    from chalicelib.services.trainings.payments import PaymentRepository


class CaptchaDrawing(Protocol):
    """Draws the signup captcha (chalicelib/adapters/captcha.py, a module with these three)."""

    def generate_code(self) -> str: ...
    def render_image(self, code: str) -> bytes: ...
    def render_audio(self, code: str) -> bytes: ...


class Ports(Protocol):
    """Everything the services need from outside: stores, adapters, settings and the clock.

    Read-only properties, so that an implementation may make each port on first use (the
    container) or hold them all from the start (the tests' builder)."""

    # Settings of the stage.
    @property
    def urls(self) -> PortalUrls: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def rate_limit_multiplier(self) -> int: ...
    @property
    def captcha_test_answer(self) -> str | None: ...
    @property
    def franceconnect_on_stage(self) -> bool: ...

    # Stores. One object may serve several roles (the accounts table is also the inactivity
    # index); each service reads it through its own narrow interface.
    @property
    def accounts(self) -> AccountRepository: ...
    @property
    def dossiers(self) -> DossierRepository: ...
    @property
    def payments(self) -> PaymentRepository: ...
    @property
    def funders(self) -> FunderRepository: ...
    @property
    def session_store(self) -> SessionRepository: ...
    @property
    def session_with_terms(self) -> SessionWithTerms: ...
    @property
    def counters(self) -> CounterRepository: ...
    @property
    def consultation_journal(self) -> ConsultationJournal: ...
    @property
    def second_factor_store(self) -> SecondFactorRepository: ...
    @property
    def challenge_store(self) -> ChallengeStore: ...
    @property
    def terms_store(self) -> TermsRepository: ...
    @property
    def attestation_store(self) -> AttestationRepository: ...
    @property
    def message_store(self) -> MessageRepository: ...
    @property
    def erasure_store(self) -> ErasureStore: ...
    @property
    def franceconnect_links(self) -> FranceConnectLinks: ...
    @property
    def identity_dossiers(self) -> IdentityDossiers: ...
    @property
    def api_key_store(self) -> ApiKeyRepository: ...
    @property
    def file_records(self) -> FileRecordRepository: ...
    @property
    def dashboard_counters(self) -> DashboardCounters: ...

    # Adapters.
    @property
    def hasher(self) -> Hasher: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def mailer(self) -> Mailer: ...
    @property
    def security_mail_queue(self) -> RecoveryQueue: ...
    @property
    def notification_queue(self) -> NotificationQueue: ...
    @property
    def documents_files(self) -> DocumentFiles: ...
    @property
    def franceconnect_provider(self) -> IdentityProvider | None: ...
    @property
    def render_pdf(self) -> Callable[[DocumentContent], bytes]: ...
    @property
    def on_pdf_served(self) -> Callable[[], None]: ...
    @property
    def captcha_drawing(self) -> CaptchaDrawing: ...
    @property
    def exchange(self) -> ReportReader | UploadSigner: ...


class Services:
    """The portal's services over one set of ports, each made once, on first use."""

    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    # Safeguards shared by the login, « Mot de passe oublié » and « Mon compte » ------------

    @cached_property
    def challenges(self) -> Challenges:
        from chalicelib.services.security.challenges import Challenges

        p = self.ports
        return Challenges(p.challenge_store, p.clock, p.captcha_test_answer)

    @cached_property
    def login_throttle(self) -> LoginThrottle:
        """One set of counters: wrong passwords and wrong secret answers delay alike."""
        from chalicelib.services.security.throttling import LoginThrottle

        return LoginThrottle(self.ports.counters, self.ports.clock)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        from chalicelib.services.security.throttling import RateLimiter

        p = self.ports
        return RateLimiter(p.counters, p.clock, p.rate_limit_multiplier)

    @cached_property
    def captchas(self) -> Captchas:
        from chalicelib.services.security.captcha import Captchas

        drawing = self.ports.captcha_drawing
        return Captchas(
            self.challenges,
            # The sounds wait in the documents bucket, behind a short-lived link.
            self.ports.documents_files,
            drawing.generate_code,
            drawing.render_image,
            drawing.render_audio,
            self.rate_limiter,
        )

    @cached_property
    def safeguards(self) -> Safeguards:
        from chalicelib.services.security.safeguards import Safeguards

        p = self.ports
        return Safeguards(
            hasher=p.hasher,
            throttle=self.login_throttle,
            challenges=self.challenges,
            audit=p.audit,
            clock=p.clock,
            limiter=self.rate_limiter,
        )

    # Accounts and sessions -----------------------------------------------------------------

    @cached_property
    def sessions(self) -> Sessions:
        from chalicelib.services.accounts.sessions import Sessions

        # The unread messages count rides on the session: taken at login, so no page pays for it.
        return Sessions(
            self.ports.session_store,
            self.ports.clock,
            unread_of=lambda account: self.messages.unread_snapshot(account),
            # A cold page reads the session and the CGU version in one request, where the store
            # can (DynamoDB's BatchGetItem).
            terms=self.terms,
            with_terms=self.ports.session_with_terms,
        )

    @cached_property
    def terms(self) -> Terms:
        from chalicelib.services.accounts.terms import Terms

        return Terms(self.ports.terms_store, self.ports.clock)

    @cached_property
    def signup(self) -> Signup:
        from chalicelib.services.accounts.signup import Signup

        p = self.ports
        return Signup(
            accounts=p.accounts,
            dossiers=p.dossiers,
            challenges=self.challenges,
            hasher=p.hasher,
            mailer=p.mailer,
            audit=p.audit,
            urls=p.urls,
            clock=p.clock,
            owner_alert=self.dossier_claims.tell_owner,
            limiter=self.rate_limiter,
        )

    @cached_property
    def login(self) -> Login:
        from chalicelib.services.accounts.login import Login

        p = self.ports
        return Login(
            accounts=p.accounts,
            sessions=self.sessions,
            terms=self.terms,
            safeguards=self.safeguards,
            mailer=p.mailer,
            urls=p.urls,
            activations=self.account_activations,
        )

    @cached_property
    def account_activations(self) -> AccountActivations:
        """The funders' dashboards count the dossiers whose account is activated."""
        from chalicelib.services.funders.activations import AccountActivations

        p = self.ports
        return AccountActivations(p.dossiers, p.dashboard_counters, p.clock)

    @cached_property
    def totp(self) -> TotpService:
        """The second factor: its tries delay as the passwords' do (same counters, own key)."""
        from chalicelib.services.accounts.totp import TotpService

        p = self.ports
        return TotpService(
            accounts=p.accounts,
            store=p.second_factor_store,
            sessions=self.sessions,
            throttle=self.login_throttle,
            audit=p.audit,
            current_terms_version=self.terms.current_version,
            clock=p.clock,
            limiter=self.rate_limiter,
            # The operator's reset is mailed as the recovery's mails are: off its path, retried.
            notices=p.security_mail_queue,
            mailer=p.mailer,
            urls=p.urls,
        )

    # « Mot de passe oublié » and « Mon compte » ----------------------------------------------

    @cached_property
    def recovery(self) -> Recovery:
        from chalicelib.services.accounts.recovery import Recovery

        p = self.ports
        return Recovery(
            accounts=p.accounts,
            challenge_store=p.challenge_store,
            queue=p.security_mail_queue,
            sessions=self.sessions,
            # The login's safeguards: a wrong secret answer counts as a login failure.
            safeguards=self.safeguards,
            mailer=p.mailer,
            urls=p.urls,
        )

    @cached_property
    def account_settings(self) -> AccountSettings:
        from chalicelib.services.accounts.my_account import AccountSettings

        p = self.ports
        return AccountSettings(
            accounts=p.accounts,
            dossiers=p.dossiers,
            sessions=self.sessions,
            safeguards=self.safeguards,
            mailer=p.mailer,
            urls=p.urls,
            delivery=self.mail_delivery,
        )

    @cached_property
    def personal_data(self) -> PersonalData:
        from chalicelib.services.accounts.personal_data import PersonalData

        p = self.ports
        return PersonalData(
            accounts=p.accounts,
            dossiers=p.dossiers,
            payments_of=p.payments.list_for_dossier,
            acceptances_of=self.terms.repository.acceptances,
            audit_trail=p.audit,
            audit=p.audit,
            clock=p.clock,
            extra_sections={
                "messages": lambda account_id: self.messages.export(account_id),
                "distribution_des_courriels": self._mail_delivery_export,
                "consultations_par_votre_financeur": self.trainee_consultations.of_account,
            },
        )

    def _mail_delivery_export(self, account_id: str) -> list[dict[str, str | None]]:
        account = self.ports.accounts.get(account_id)
        return self.mail_delivery.export(account.email) if account else []

    # Retention: closing an account, inactive accounts, a funder's withdrawal -----------------

    @cached_property
    def account_closure(self) -> AccountClosure:
        from chalicelib.services.accounts.retention import AccountClosure

        p = self.ports
        return AccountClosure(
            accounts=p.accounts,
            store=p.erasure_store,
            sessions=p.session_store,
            login_counters=self.login_throttle,
            documents=p.documents_files,
            credentials=self.account_settings,
            mailer=p.mailer,
            audit=p.audit,
            urls=p.urls,
        )

    def inactivity_job(self) -> InactivityJob:
        from chalicelib.services.accounts.retention import InactivityJob

        p = self.ports
        return InactivityJob(
            accounts=p.accounts,
            index=p.accounts,
            closure=self.account_closure,
            mailer=p.mailer,
            audit=p.audit,
            urls=p.urls,
            clock=p.clock,
        )

    def retention_purge(self) -> RetentionPurge:
        from chalicelib.services.accounts.retention import RetentionPurge

        p = self.ports
        return RetentionPurge(p.funders, p.erasure_store, p.documents_files, p.audit, p.clock)

    @cached_property
    def dossier_withdrawal(self) -> DossierWithdrawal:
        from chalicelib.services.accounts.retention import DossierWithdrawal

        p = self.ports
        return DossierWithdrawal(
            accounts=p.accounts,
            store=p.erasure_store,
            documents=p.documents_files,
            mailer=p.mailer,
            audit=p.audit,
            urls=p.urls,
        )

    # Mes formations --------------------------------------------------------------------------

    @cached_property
    def trainings(self) -> Trainings:
        from chalicelib.services.trainings.my_trainings import Trainings

        p = self.ports
        return Trainings(p.dossiers, p.payments, p.funders, p.clock, p.urls)

    @cached_property
    def dossier_claims(self) -> DossierClaims:
        """« Ajouter un dossier » on a proof; the address's allowance widens with the stage's
        rate-limit multiplier (local and test journeys all come from one address)."""
        from chalicelib.services.trainings.dossier_claims import (
            ADDRESS_FREE_ATTEMPTS,
            ClaimThrottle,
            DossierClaims,
        )

        p = self.ports
        throttle = ClaimThrottle(
            p.counters, p.clock, ADDRESS_FREE_ATTEMPTS * p.rate_limit_multiplier
        )
        return DossierClaims(
            dossiers=p.dossiers,
            accounts=p.accounts,
            challenges=self.challenges,
            throttle=throttle,
            funders=self.trainings.funders,
            mailer=p.mailer,
            audit=p.audit,
            urls=p.urls,
            activations=self.account_activations,
        )

    @cached_property
    def attestations(self) -> Attestations:
        from chalicelib.services.trainings.attestations import Attestations

        p = self.ports
        return Attestations(
            self.trainings,
            p.payments,
            p.attestation_store,
            p.clock,
            p.urls.path("/verifier"),
            p.audit,
            self.rate_limiter,
        )

    @cached_property
    def document_delivery(self) -> DocumentDelivery:
        from chalicelib.services.trainings.document_delivery import DocumentDelivery

        p = self.ports
        return DocumentDelivery(p.documents_files, p.render_pdf, on_served=p.on_pdf_served)

    # Funder files and the mails they trigger -------------------------------------------------

    def funder_file_ingestion(self) -> FunderFileIngestion:
        from chalicelib.services.funder_files.ingestion import FunderFileIngestion
        from chalicelib.services.trainings.account_linking import AccountLinker

        p = self.ports
        return FunderFileIngestion(
            funders=p.funders,
            dossiers=p.dossiers,
            payments=p.payments,
            clock=p.clock,
            linker=AccountLinker(
                p.accounts, p.mailer, p.audit, p.urls, activations=self.account_activations
            ),
            notifications=p.notification_queue,
            withdrawal=self.dossier_withdrawal,
            counters=p.dashboard_counters,
        )

    @cached_property
    def payment_mail_bounces(self) -> PaymentMailBounces:
        """SES's bounces of payment mails, on the funder's dashboard and look-up."""
        from chalicelib.services.mail.notifications import PaymentMailBounces

        return PaymentMailBounces(self.ports.payments)

    @cached_property
    def new_payment_notifier(self) -> NewPaymentNotifier:
        from chalicelib.services.mail.notifications import NewPaymentNotifier

        p = self.ports
        return NewPaymentNotifier(
            p.payments,
            p.dossiers,
            p.accounts,
            p.mailer,
            p.urls,
            counters=p.dashboard_counters,
            delivery=p.accounts,
            clock=p.clock,
        )

    @cached_property
    def mail_delivery(self) -> MailDelivery:
        from chalicelib.services.mail.delivery import MailDelivery

        return MailDelivery(self.ports.accounts, self.ports.audit)

    @cached_property
    def funder_api_keys(self) -> FunderApiKeys:
        from chalicelib.services.funders.api_keys import FunderApiKeys

        p = self.ports
        return FunderApiKeys(p.api_key_store, p.funders, p.counters, p.audit, p.clock)

    @cached_property
    def funder_staff(self) -> FunderStaff:
        from chalicelib.services.funders.staff import FunderStaff

        return FunderStaff(self.ports.accounts, self.ports.funders)

    @cached_property
    def staff_invitations(self) -> StaffInvitations:
        """One invitation for the organisations' and the funders' staff (`admin staff …`)."""
        from chalicelib.services.accounts.staff import StaffInvitations

        p = self.ports
        return StaffInvitations(
            p.accounts, p.message_store, p.funders, p.hasher, p.mailer, p.audit, p.urls, p.clock
        )

    @cached_property
    def funder_settings(self) -> FunderSettings:
        from chalicelib.services.funders.settings import FunderSettings

        p = self.ports
        return FunderSettings(p.funders, p.audit, franceconnect_on_stage=p.franceconnect_on_stage)

    # The funders' files, from the browser or their own systems, and the dashboard -----------

    @cached_property
    def file_tracking(self) -> FileTracking:
        from chalicelib.services.funders.files import FileTracking

        return FileTracking(self.ports.file_records, self.ports.dashboard_counters)

    @cached_property
    def funder_files(self) -> FunderFiles:
        from chalicelib.services.funders.files import FunderFiles

        return FunderFiles(self.ports.file_records, self.ports.exchange)

    @cached_property
    def funder_dashboard(self) -> FunderDashboard:
        from chalicelib.services.funders.dashboard import FunderDashboard

        return FunderDashboard(self.ports.dashboard_counters, self.ports.clock)

    @cached_property
    def funder_uploads(self) -> FunderUploads:
        from chalicelib.services.funders.uploads import FunderUploads

        return FunderUploads(self.ports.exchange, self.ports.clock)

    # « Rechercher un dossier » of the funders' space (issue 18) -----------------------------

    @cached_property
    def dossier_lookup(self) -> DossierLookup:
        from chalicelib.services.funders.lookup import DossierLookup

        p = self.ports
        return DossierLookup(
            dossiers=p.dossiers,
            payments=p.payments,
            accounts=p.accounts,
            delivery=p.accounts,
            journal=p.consultation_journal,
            audit=p.audit,
            limiter=self.rate_limiter,
            clock=p.clock,
        )

    @cached_property
    def trainee_consultations(self) -> TraineeConsultations:
        from chalicelib.services.funders.lookup import TraineeConsultations

        p = self.ports
        return TraineeConsultations(p.dossiers, p.consultation_journal, p.funders)

    # FranceConnect ----------------------------------------------------------------------------

    @cached_property
    def franceconnect_login(self) -> FranceConnectLogin:
        from chalicelib.services.franceconnect.login import FranceConnectLogin

        p = self.ports
        return FranceConnectLogin(
            provider=p.franceconnect_provider,
            challenges=self.challenges,
            login=self.login,
            links=p.franceconnect_links,
            dossiers=p.identity_dossiers,
            audit=p.audit,
            mailer=p.mailer,
            clock=p.clock,
            urls=p.urls,
            limiter=self.rate_limiter,
        )

    # « Mes messages » and the organisations' space --------------------------------------------

    @cached_property
    def unread_counts(self) -> UnreadCounts:
        from chalicelib.services.messages.unread import UnreadCounts

        return UnreadCounts(funders=self.trainings.funders)

    @cached_property
    def messages(self) -> Messages:
        from chalicelib.services.messages.my_messages import Messages

        p = self.ports
        return Messages(
            repository=p.message_store,
            dossiers=p.dossiers,
            accounts=p.accounts,
            # The same five-minute cache as « Mes formations »: no page spends a request on it.
            funders=self.trainings.funders,
            sessions=p.session_store,
            mailer=p.mailer,
            urls=p.urls,
            clock=p.clock,
        )


# The names of the kept services, for the test that compares two wirings
# (tests/integration/test_wiring.py).
SERVICE_NAMES: tuple[str, ...] = tuple(
    name for name, value in vars(Services).items() if isinstance(value, cached_property)
)
