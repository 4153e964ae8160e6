"""Identification and the first-login steps: new password, secret question, CGU.

Each use case answers with the session it opened or moved on (`SignedIn`), or raises: `Invalid`
(a wrong pair, code `invalid_credentials`; a step's inputs to correct), `Throttled` (a delay in
force for the address), `RateLimited` (the client address's allowance), `SignedOut`."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.services.accounts.identity import normalise_typed_email
from chalicelib.services.accounts.model import (
    Account,
    AccountKind,
    AccountRepository,
    PortalUrls,
)
from chalicelib.services.accounts.passwords import normalise_secret_answer, password_problems
from chalicelib.services.accounts.retention import inactivity_due
from chalicelib.services.accounts.sessions import LoginMethod, Session, Sessions, SignedIn
from chalicelib.services.accounts.terms import Terms
from chalicelib.services.errors import Invalid, SignedOut, Throttled
from chalicelib.services.formatting import paris_time
from chalicelib.services.mail.mails import Mailer, password_changed_mail
from chalicelib.services.security.safeguards import Safeguards
from chalicelib.services.security.throttling import TOO_MANY_ATTEMPTS, Attempt

if TYPE_CHECKING:
    from chalicelib.services.funders.activations import AccountActivations

WRONG_PAIR = "Adresse mail ou mot de passe incorrect."
# The code and the key of a wrong pair (an unknown address, a wrong password: one answer), and
# the key of the delay in force for an address.
INVALID_CREDENTIALS = "invalid_credentials"
CREDENTIALS = "credentials"
STALE_TERMS = "Une nouvelle version des CGU vient d'être publiée."
MAX_QUESTION_LENGTH = 200
MAX_ANSWER_LENGTH = 100
MAX_PASSWORD_FIELD = 1024  # refuse absurd inputs before hashing them


def wrong_pair() -> Invalid:
    return Invalid({CREDENTIALS: WRONG_PAIR}, INVALID_CREDENTIALS)


class Login:
    def __init__(
        self,
        accounts: AccountRepository,
        sessions: Sessions,
        terms: Terms,
        safeguards: Safeguards,
        mailer: Mailer,
        urls: PortalUrls,
        activations: AccountActivations | None = None,
    ) -> None:
        self.accounts = accounts
        # The funders' dashboards count activated accounts (services/funders/activations.py).
        self.activations = activations
        self.sessions = sessions
        self.terms = terms
        self._throttle = safeguards.throttle
        self._hasher = safeguards.hasher
        self._audit = safeguards.audit
        self._clock = safeguards.clock
        self.limiter = safeguards.limiter
        self._mailer = mailer
        self._urls = urls
        self._dummy_hash: str | None = None

    def _spend_a_verification(self, password: str) -> None:
        """Unknown address: verify against a throwaway hash so the answer takes as long."""
        assert self._dummy_hash is not None  # made by log_in before anything else
        self._hasher.verify(self._dummy_hash, password)

    def log_in(self, identifier: str, password: str, client_ip: str | None) -> SignedIn:
        """A password login, every face's: raises `RateLimited` past the client address's
        allowance of identifications, `Throttled` while a delay is in force for the address,
        `Invalid` (`invalid_credentials`) for a wrong pair."""
        self.limiter.check("login", client_ip, TOO_MANY_ATTEMPTS)
        # The throwaway hash is made on the first login attempt, whatever its outcome: made only
        # for an unknown address, that answer would take one hash longer than for a known one.
        # Not when this service is built: every signed-in page builds it (pending steps), and
        # the first of them in a new Lambda would pay a hash for nothing.
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("mot de passe inexistant")
        email = normalise_typed_email(identifier)
        # Counted before the password is checked: concurrent tries cannot outrun the delays.
        attempt = self._throttle.begin(email) if email else Attempt()
        if attempt.refused_until is not None:
            refused_until = attempt.refused_until
            raise Throttled(refused_until, too_many_tries(refused_until), CREDENTIALS)
        account = self.accounts.find_by_email(email) if email and password else None
        if account is None or len(password) > MAX_PASSWORD_FIELD:
            self._spend_a_verification(password[:MAX_PASSWORD_FIELD])
            raise self._failed(email, account, attempt, client_ip)
        used_temporary = False
        if account.password_hash:
            if not self._hasher.verify(account.password_hash, password):
                raise self._failed(email, account, attempt, client_ip)
            if self._hasher.needs_rehash(account.password_hash):
                account = account.updated(password_hash=self._hasher.hash(password))
                self.accounts.save(account)
        elif self._temporary_password_usable(account):
            assert account.temporary_password_hash is not None
            if not self._hasher.verify(account.temporary_password_hash, password):
                raise self._failed(email, account, attempt, client_ip)
            used_temporary = True
        else:
            self._spend_a_verification(password)
            raise self._failed(email, account, attempt, client_ip)
        self._throttle.reset(email)
        self.record_activity(account)
        if used_temporary:  # single use: only this first login accepts it
            account = account.updated(temporary_password_used=True)
            self.accounts.save(account)
        token, session = self.sessions.open(
            account, LoginMethod.PASSWORD, self.terms.current_version()
        )
        self._audit.record(account.account_id, "login-success", client_ip, {"method": "password"})
        return SignedIn(token, session)

    def record_activity(self, account: Account) -> None:
        """Every login pushes the inactive-account warning back (accounts/retention.py);
        staff accounts are the operators' to end, not the inactivity rule's."""
        if account.kind is AccountKind.TRAINEE:
            self.accounts.record_login(account.account_id, inactivity_due(self._clock().date()))

    def _temporary_password_usable(self, account: Account) -> bool:
        return (
            account.temporary_password_hash is not None
            and not account.temporary_password_used
            and account.temporary_password_expires_at is not None
            and account.temporary_password_expires_at > self._clock()
        )

    def _failed(
        self, email: str, account: Account | None, attempt: Attempt, client_ip: str | None
    ) -> Invalid:
        """The same writes whether or not the address has an account (one audit item, two when
        the delays start), so that neither the answer nor its time tells them apart."""
        locked = attempt.lock_if_wrong is not None
        if account is not None:
            self._audit.record(account.account_id, "login-failure", client_ip)
            if locked:
                self._audit.record(account.account_id, "lockout", client_ip)
        else:  # counted all the same: a wave of unknown addresses is what stuffing looks like
            subject = unknown_subject(email)
            self._audit.record_unattributed("login-failure-unknown-account", subject, client_ip)
            if locked:
                self._audit.record_unattributed("lockout-unknown-account", subject, client_ip)
        return wrong_pair()

    def log_out(self, token: str, session: Session, client_ip: str | None) -> None:
        self.sessions.close(token)
        self._audit.record(session.account_id, "logout", client_ip)

    # First-login steps -----------------------------------------------------------------

    def change_first_password(
        self,
        token: str,
        session: Session,
        old_password: str,
        new_password: str,
        confirmation: str,
        client_ip: str | None,
    ) -> SignedIn:
        account = self._account(session)
        errors: dict[str, str] = {}
        current_hash = account.password_hash or account.temporary_password_hash
        if not current_hash or not self._hasher.verify(
            current_hash, old_password[:MAX_PASSWORD_FIELD]
        ):
            errors["old_password"] = "L'ancien mot de passe est incorrect."
        errors.update(new_password_errors(account, new_password, confirmation))
        if errors:
            raise Invalid(errors)
        account = account.updated(
            password_hash=self._hasher.hash(new_password),
            temporary_password_hash=None,
            temporary_password_expires_at=None,
        )
        self.accounts.save(account)
        self.sessions.close_all(account.account_id, keep_token=token)
        self._audit.record(account.account_id, "password-changed", client_ip)
        self._mailer.send(
            password_changed_mail(
                to=account.email,
                given_name=account.first_given_name,
                recovery_url=None,
                portal_url=self._urls.base_url,
            )
        )
        return self._advance(token, session, account)

    def set_secret_question(
        self, token: str, session: Session, question: str, answer: str, client_ip: str | None
    ) -> SignedIn:
        account = self._account(session)
        question = " ".join(question.split())
        errors = secret_question_errors(question, answer)
        if errors:
            raise Invalid(errors)
        account = account.updated(
            secret_question=question,
            secret_answer_hash=self._hasher.hash(normalise_secret_answer(answer)),
        )
        self.accounts.save(account)
        self._audit.record(account.account_id, "secret-question-set", client_ip)
        if self.activations is not None:
            # The step that completes a first login: its dossiers count as activated.
            self.activations.account_activated(account)
        return self._advance(token, session, account)

    def accept_terms(
        self, token: str, session: Session, version: str, client_ip: str | None
    ) -> SignedIn:
        account = self._account(session)
        current = self.terms.current_version()
        if current is None or version != current:
            raise Invalid({"version": STALE_TERMS})
        self.terms.accept(account.account_id, version)
        account = account.updated(terms_version=version)
        self.accounts.save(account)
        self._audit.record(account.account_id, "terms-accepted", client_ip, {"version": version})
        return self._advance(token, session, account)

    def _account(self, session: Session) -> Account:
        account = self.accounts.get(session.account_id)
        if account is None:  # closed since the login: so is what the session stood for
            raise SignedOut()
        return account

    def _advance(self, token: str, session: Session, account: Account) -> SignedIn:
        token, session = self.sessions.advance(
            token, session, account, self.terms.current_version()
        )
        return SignedIn(token, session)


def new_password_errors(account: Account, new_password: str, confirmation: str) -> dict[str, str]:
    """The checks of a new personal password, shared by every form that sets one."""
    problems = password_problems(
        new_password,
        family_name=account.family_name,
        given_names=account.given_names,
        email=account.email,
    )
    if problems:
        return {"new_password": " ".join(problems)}
    if new_password != confirmation:
        return {"confirmation": "La confirmation doit être identique au nouveau mot de passe."}
    return {}


def secret_question_errors(question: str, answer: str) -> dict[str, str]:
    """The checks of a secret question (spaces already collapsed) and its answer."""
    errors: dict[str, str] = {}
    if len(question) < 3:
        errors["question"] = "Saisissez votre question secrète, par exemple : Prénom de mon fils ?"
    elif len(question) > MAX_QUESTION_LENGTH:
        errors["question"] = f"La question doit faire {MAX_QUESTION_LENGTH} caractères au plus."
    normalised = normalise_secret_answer(answer)
    if len(normalised) < 2:
        errors["answer"] = "Saisissez la réponse à votre question secrète (2 caractères au moins)."
    elif len(normalised) > MAX_ANSWER_LENGTH:
        errors["answer"] = f"La réponse doit faire {MAX_ANSWER_LENGTH} caractères au plus."
    elif normalised.rstrip(" ?") == normalise_secret_answer(question).rstrip(" ?"):
        errors["answer"] = "La réponse ne doit pas être identique à la question."
    return errors


def unknown_subject(email: str) -> str:
    """A pseudonym for an address without an account: the audit trail groups the tries made on
    it without keeping the address."""
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def too_many_tries(retry_after: datetime) -> str:
    local = paris_time(retry_after)
    return (
        "Trop de tentatives de connexion avec cette adresse. Par sécurité, réessayez après "
        f"{local:%H:%M} (heure de Paris), ou utilisez « Mot de passe oublié »."
    )
