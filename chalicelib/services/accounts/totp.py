"""The TOTP second factor (RFC 6238, through pyotp): required of funder staff, offered to
organisation staff.

Enrolment shows a new secret once (QR code and text), then a code from the application confirms
it and ten recovery codes are shown once; only their SHA-256 is kept (they carry about 50 bits
of randomness each, so a slow hash would add nothing but latency). At every login of an enrolled
account, the session waits at `Step.TOTP` until a code or a recovery code is given.

Abuse rules: every try is counted before it is checked, by the same growing delays as the
passwords (LoginThrottle, keyed by the account); a TOTP time step is accepted once (a
conditional write on the last used step, so that a code seen over a shoulder or replayed by two
concurrent requests is refused); a recovery code is spent by a conditional delete (single use
under concurrency).

A code refused raises `Invalid` under `code` (wrong, already used), `Expired` (the enrolment
changed meanwhile), or `Throttled` (a delay in force); a code accepted answers with the session
moved on (`SignedIn`) or the recovery codes to show once.

An operator's reset is a credential change: it is mailed to the person (docs/specs/security.md,
"Every credential change is mailed"). The mail leaves by the security mails' queue, as the
recovery's do: the reset is complete before the mail is even queued, so a mail that cannot be
sent never undoes it, and the queue tries the mail again (then keeps it in its dead-letter queue).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.services.accounts.model import (
    Account,
    AccountKind,
    AccountRepository,
    AuditLog,
    Clock,
    PortalUrls,
)
from chalicelib.services.accounts.sessions import Session, Sessions, SignedIn
from chalicelib.services.errors import Expired, Invalid, SignedOut, Throttled
from chalicelib.services.formatting import paris_time
from chalicelib.services.mail.mails import Mailer, second_factor_reset_mail
from chalicelib.services.security.throttling import TOO_MANY_ATTEMPTS, LoginThrottle, RateLimiter

ISSUER = "Portail stagiaire"
TIME_STEP_SECONDS = 30
# One step before and after the current one: a phone's clock a little off still works.
ACCEPTED_DRIFT = 1
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
RECOVERY_CODE_LENGTH = 10

WRONG_CODE = "Code incorrect. Saisissez le code à 6 chiffres affiché par votre application."
CODE_ALREADY_USED = "Ce code a déjà servi. Attendez le code suivant de votre application."
ENROLMENT_EXPIRED = "Le code QR a changé. Scannez le nouveau code QR puis saisissez son code."
# The use cases' one input, the key of their refusals.
CODE = "code"


@dataclass(frozen=True)
class SecondFactor:
    pending_secret: str | None = None
    secret: str | None = None
    last_step: int | None = None
    recovery_codes_left: int = 0


class SecondFactorRepository(Protocol):
    def get(self, account_id: str) -> SecondFactor | None: ...

    def set_pending(self, account_id: str, secret: str) -> bool:
        """Stores a new enrolment secret; False when a confirmed one exists."""
        ...

    def confirm(
        self, account_id: str, pending_secret: str, step: int, code_hashes: list[str], at: datetime
    ) -> bool:
        """Makes `pending_secret` the secret, only if it is still the pending one and none is
        confirmed yet."""
        ...

    def use_step(self, account_id: str, step: int) -> bool:
        """Records `step` as used, only if it is later than the last used one."""
        ...

    def use_recovery_code(self, account_id: str, code_hash: str) -> bool:
        """Removes that recovery code, only if it is still there."""
        ...

    def delete(self, account_id: str) -> None:
        """Forgets the second factor (secret, pending secret, recovery codes); idempotent."""
        ...


@dataclass(frozen=True)
class SecondFactorResetNotice:
    """The queued message of an operator's reset: it names the account, never its address."""

    account_id: str


class ResetNoticeQueue(Protocol):
    def enqueue(self, notifications: Sequence[SecondFactorResetNotice]) -> None: ...


class ResetNotMailed(RuntimeError):
    """The reset is done, but its mail could not be queued: running the reset again (each of
    its steps may run twice) queues it."""

    def __init__(self, account: Account) -> None:
        super().__init__(account.account_id)
        self.account = account


class NotStaff(LookupError):
    """No staff account with this address (a trainee has no second factor to reset)."""


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str  # otpauth://…, what the QR code holds

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four, easier to type by hand."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


@dataclass(frozen=True)
class Enrolled:
    """The last first-login step of funder staff done: the recovery codes, to show once, and
    the session moved on."""

    recovery_codes: list[str]
    signed_in: SignedIn


@dataclass(frozen=True)
class SecondFactorStatus:
    """What the pages show of an account's second factor."""

    account: Account
    codes_left: int  # the recovery codes not yet used (0 while the factor is off)


class AlreadyEnrolled(Exception):
    pass


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(normalise_recovery_code(code).encode()).hexdigest()


def normalise_recovery_code(code: str) -> str:
    return "".join(char for char in code.lower() if char.isalnum())


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code is `code`, within the accepted drift; None if none is."""
    if len(code) != 6 or not code.isdigit():
        return None
    import pyotp  # here, not at import: only the second factor's pages need it (cold start)

    totp = pyotp.TOTP(secret, interval=TIME_STEP_SECONDS)
    current = int(now.timestamp()) // TIME_STEP_SECONDS
    found = None
    for step in range(current - ACCEPTED_DRIFT, current + ACCEPTED_DRIFT + 1):
        # Every candidate compared, in constant time: the answer's time tells nothing.
        if hmac.compare_digest(totp.at(step * TIME_STEP_SECONDS), code):
            found = step
    return found


def too_many_codes(until: datetime) -> str:
    local = paris_time(until)
    return (
        f"Trop de codes incorrects. Par sécurité, réessayez après {local:%H:%M} (heure de Paris)."
    )


class TotpService:
    def __init__(
        self,
        accounts: AccountRepository,
        store: SecondFactorRepository,
        sessions: Sessions,
        throttle: LoginThrottle,
        audit: AuditLog,
        current_terms_version: Callable[[], str | None],
        clock: Clock,
        limiter: RateLimiter,
        notices: ResetNoticeQueue,
        mailer: Mailer,
        urls: PortalUrls,
    ) -> None:
        self._accounts = accounts
        self._notices = notices
        self._mailer = mailer
        self._urls = urls
        self._store = store
        self._sessions = sessions
        self._throttle = throttle
        self._audit = audit
        self._terms_version = current_terms_version
        self._clock = clock
        self._limiter = limiter

    @staticmethod
    def _throttle_key(account_id: str) -> str:
        return f"totp#{account_id}"

    # Enrolment ------------------------------------------------------------------------------

    def begin_enrolment(self, account: Account) -> Enrolment:
        """A new secret, replacing any unconfirmed one (an earlier QR code stops working)."""
        if account.totp_enabled:
            raise AlreadyEnrolled(account.account_id)
        import pyotp

        secret = pyotp.random_base32()
        if not self._store.set_pending(account.account_id, secret):
            raise AlreadyEnrolled(account.account_id)
        return _enrolment(secret, account)

    def pending_enrolment(self, account: Account) -> Enrolment | None:
        """The enrolment under way (after a wrong code: the QR code already scanned stays)."""
        state = self._store.get(account.account_id)
        if state is None or state.pending_secret is None or state.secret is not None:
            return None
        return _enrolment(state.pending_secret, account)

    def status(self, account_id: str) -> SecondFactorStatus:
        """The account and its codes left; raises `SignedOut` when the account is gone."""
        account = self._accounts.get(account_id)
        if account is None:  # closed since the login: so is what the session stood for
            raise SignedOut()
        codes_left = self.recovery_codes_left(account_id) if account.totp_enabled else 0
        return SecondFactorStatus(account, codes_left)

    def confirm_enrolment(self, account: Account, code: str, client_ip: str | None) -> list[str]:
        """Checks a code of the pending secret; then the account asks it at every login, and the
        recovery codes are returned, to be shown once. A code is an identification: raises
        `RateLimited` past the address's allowance."""
        self._limiter.check("login", client_ip, TOO_MANY_ATTEMPTS)
        return self._confirm(account, code, client_ip)

    def _confirm(self, account: Account, code: str, client_ip: str | None) -> list[str]:
        attempt = self._throttle.begin(self._throttle_key(account.account_id))
        if attempt.refused_until is not None:
            raise Throttled(attempt.refused_until, too_many_codes(attempt.refused_until), CODE)
        state = self._store.get(account.account_id)
        if state is None or state.pending_secret is None or state.secret is not None:
            raise enrolment_expired()
        step = matching_step(state.pending_secret, _digits(code), self._clock())
        if step is None:
            self._audit.record(account.account_id, "totp-failure", client_ip)
            raise Invalid({CODE: WRONG_CODE})
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        hashes = [hash_recovery_code(code) for code in codes]
        if not self._store.confirm(
            account.account_id, state.pending_secret, step, hashes, self._clock()
        ):
            raise enrolment_expired()
        self._throttle.reset(self._throttle_key(account.account_id))
        fresh = self._accounts.get(account.account_id) or account
        self._accounts.save(fresh.updated(totp_enabled=True))
        self._audit.record(account.account_id, "totp-enabled", client_ip)
        return codes

    def confirm_enrolment_step(
        self, token: str, session: Session, code: str, client_ip: str | None
    ) -> Enrolled:
        """The last first-login step of funder staff: on success, the session is complete."""
        self._limiter.check("login", client_ip, TOO_MANY_ATTEMPTS)
        account = self._account(session)
        codes = self._confirm(account, code, client_ip)
        enrolled = self._account(session)
        token, advanced = self._sessions.advance(token, session, enrolled, self._terms_version())
        return Enrolled(codes, SignedIn(token, advanced))

    # The operator's reset (lost phone and recovery codes) --------------------------------------

    def reset(self, email: str) -> Account:
        """`python -m chalicelib.admin staff reset-totp`: the secret and recovery codes go, every
        session of the account ends, and the next login asks for a new enrolment (funder staff,
        Account.pending_step) once the password is given. Audited as the operator's act, and
        mailed to the person through the security mails' queue (`deliver_reset_notice`), queued
        last: the reset stands whatever becomes of its mail (`ResetNotMailed` when the queue
        refuses it). Each step may run again: a reset interrupted halfway (its notice not queued
        included) is finished by running it again."""
        from chalicelib.services.accounts.identity import normalise_typed_email

        account = self._accounts.find_by_email(normalise_typed_email(email))
        if account is None or account.kind is AccountKind.TRAINEE:
            raise NotStaff(email)
        # Sessions first: none stays signed in past its second factor while the reset runs.
        self._sessions.close_all(account.account_id)
        self._store.delete(account.account_id)
        fresh = self._accounts.get(account.account_id) or account
        self._accounts.save(fresh.updated(totp_enabled=False))
        self._throttle.reset(self._throttle_key(account.account_id))
        self._audit.record(account.account_id, "totp-reset", None, {"by": "operator"})
        reset = fresh.updated(totp_enabled=False)
        try:
            self._notices.enqueue([SecondFactorResetNotice(account.account_id)])
        except Exception as error:  # whatever the queue's failure, the reset itself stands
            raise ResetNotMailed(reset) from error
        return reset

    def deliver_reset_notice(self, notice: SecondFactorResetNotice) -> bool:
        """The security mails' worker: tells the person their second factor was reset; True if
        a mail went. A mail that cannot be sent raises, so that the queue tries again; an
        account closed meanwhile has no one left to tell."""
        # Here, not at import: only the security mails' worker sends it (cold start).
        from chalicelib.services.accounts.staff import FUNDER_SPACE_PATH, STAFF_LOGIN_PATH

        account = self._accounts.get(notice.account_id)
        if account is None or account.kind is AccountKind.TRAINEE:
            return False
        funder_staff = account.kind is AccountKind.FUNDER_STAFF
        self._mailer.send(
            second_factor_reset_mail(
                to=account.email,
                given_name=account.first_given_name,
                # Funder staff must have one (pending_step asks it); organisation staff choose.
                enrol_at_login=funder_staff,
                login_url=self._urls.path(FUNDER_SPACE_PATH if funder_staff else STAFF_LOGIN_PATH),
                recovery_url=(
                    self._urls.recovery(account.funder_code)
                    if funder_staff and account.funder_code
                    else None
                ),
                portal_url=self._urls.base_url,
            )
        )
        return True

    # Every login ----------------------------------------------------------------------------

    def verify_login(
        self, token: str, session: Session, code: str, client_ip: str | None
    ) -> SignedIn:
        """The code of the application, or a recovery code, completes the session's login.
        Raises `RateLimited` past the address's allowance of identifications."""
        self._limiter.check("login", client_ip, TOO_MANY_ATTEMPTS)
        account = self._account(session)
        key = self._throttle_key(account.account_id)
        attempt = self._throttle.begin(key)
        if attempt.refused_until is not None:
            raise Throttled(attempt.refused_until, too_many_codes(attempt.refused_until), CODE)
        state = self._store.get(account.account_id)
        if state is None or state.secret is None:
            raise LookupError("TOTP step without a second factor")
        method = self._check(account.account_id, state, code)
        if method is None or method == "replayed":
            self._audit.record(account.account_id, "totp-failure", client_ip)
            if attempt.lock_if_wrong is not None:
                self._audit.record(account.account_id, "lockout", client_ip)
            raise Invalid({CODE: CODE_ALREADY_USED if method == "replayed" else WRONG_CODE})
        self._throttle.reset(key)
        self._audit.record(account.account_id, "totp-success", client_ip, {"method": method})
        token, advanced = self._sessions.advance(token, session, account, self._terms_version())
        return SignedIn(token, advanced)

    def _check(self, account_id: str, state: SecondFactor, typed: str) -> str | None:
        assert state.secret is not None
        digits = _digits(typed)
        if len(digits) == 6 and digits == typed.replace(" ", ""):
            step = matching_step(state.secret, digits, self._clock())
            if step is None:
                return None
            return "totp" if self._store.use_step(account_id, step) else "replayed"
        recovery = len(normalise_recovery_code(typed)) == RECOVERY_CODE_LENGTH
        if recovery and self._store.use_recovery_code(account_id, hash_recovery_code(typed)):
            return "recovery-code"
        return None

    def recovery_codes_left(self, account_id: str) -> int:
        state = self._store.get(account_id)
        return state.recovery_codes_left if state else 0

    def _account(self, session: Session) -> Account:
        account = self._accounts.get(session.account_id)
        if account is None:  # closed since the login: so is what the session stood for
            raise SignedOut()
        return account


def enrolment_expired() -> Expired:
    """The pending secret changed (a newer QR code) or was confirmed meanwhile."""
    return Expired({CODE: ENROLMENT_EXPIRED}, "enrolment_expired")


def _enrolment(secret: str, account: Account) -> Enrolment:
    import pyotp

    uri = pyotp.TOTP(secret, interval=TIME_STEP_SECONDS).provisioning_uri(
        name=account.email, issuer_name=ISSUER
    )
    return Enrolment(secret, uri)


def _digits(code: str) -> str:
    return "".join(char for char in code if not char.isspace())
