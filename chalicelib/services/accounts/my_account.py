"""« Mon compte » (guide, « Accès aux informations de son compte »; docs/specs/product.md,
journey 5).

Name, first name and birth date come from the dossier and are only shown. The trainee changes:
- the phone number (French formats, stored in E.164);
- the password, with the current password and the secret answer (an account without a password,
  FranceConnect only, sets one with its secret answer); every other session then ends;
- the secret question, with the password;
- the mail address, with the password: a link valid 24 hours goes to the new address and the old
  one is told; the change applies only once the link is opened.
An account without a password (FranceConnect only) proves itself with its secret answer instead.
A wrong password or answer counts like a login failure. Every credential change is mailed to the
account's address, without any secret, and written to the audit trail.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from chalicelib.services.accounts.identity import normalise_typed_email, validated_email
from chalicelib.services.accounts.login import (
    MAX_PASSWORD_FIELD,
    new_password_errors,
    secret_question_errors,
    too_many_tries,
)
from chalicelib.services.accounts.model import (
    Account,
    AccountRepository,
    PortalUrls,
)
from chalicelib.services.accounts.passwords import normalise_secret_answer
from chalicelib.services.accounts.phones import PHONE_FORMAT_ERROR, normalise_french_phone
from chalicelib.services.accounts.sessions import Sessions
from chalicelib.services.errors import SignedOut
from chalicelib.services.mail.mails import (
    Mailer,
    email_change_confirmation_mail,
    email_change_notice_mail,
    email_changed_mail,
    mask_email,
    password_changed_mail,
    secret_question_changed_mail,
)
from chalicelib.services.security.challenges import Purpose
from chalicelib.services.security.safeguards import Safeguards
from chalicelib.services.trainings.dossiers import Dossier

EMAIL_CHANGE_LIFETIME = timedelta(hours=24)
EMAIL_CHANGE_TRIES = 3
CONFIRMATION_PATH = "/compte/adresse-mail/confirmation"

WRONG_PASSWORD = "Le mot de passe est incorrect."
WRONG_ANSWER = "La réponse à la question secrète est incorrecte."
MISSING_PASSWORD = "Saisissez votre mot de passe actuel."
MISSING_ANSWER = "Saisissez la réponse à votre question secrète."
INVALID_EMAIL = "Saisissez une adresse mail valide, par exemple nom@exemple.fr."
EMAIL_CONFIRMATION_DIFFERS = "La confirmation doit être identique à la nouvelle adresse mail."
SAME_EMAIL = "C'est déjà l'adresse mail de votre compte."
LINK_EXPIRED = (
    "Ce lien de confirmation n'est plus valable : il sert une seule fois, pendant 24 heures. "
    "Demandez un nouveau changement d'adresse depuis « Mon compte »."
)
ADDRESS_TAKEN = (
    "Cette adresse mail est déjà celle d'un autre compte du portail : l'adresse de votre compte "
    "n'a pas été modifiée."
)


class Credential(StrEnum):
    PASSWORD = "password"
    ANSWER = "answer"


class SettingsAccounts(AccountRepository, Protocol):
    def change_email(self, account: Account, new_email: str) -> bool: ...


class DossiersOfAccount(Protocol):
    def list_for_account(self, account_id: str) -> list[Dossier]: ...


@dataclass
class SettingsResult:
    errors: dict[str, str] = field(default_factory=dict)
    retry_after: datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


class AccountSettings:
    def __init__(
        self,
        accounts: SettingsAccounts,
        dossiers: DossiersOfAccount,
        sessions: Sessions,
        safeguards: Safeguards,
        mailer: Mailer,
        urls: PortalUrls,
    ) -> None:
        self._accounts = accounts
        self._dossiers = dossiers
        self._sessions = sessions
        self._challenges = safeguards.challenges
        self._throttle = safeguards.throttle
        self._hasher = safeguards.hasher
        self._audit = safeguards.audit
        self._mailer = mailer
        self._urls = urls

    def account(self, account_id: str) -> Account:
        account = self._accounts.get(account_id)
        if account is None:  # closed since the login: so is what the session stood for
            raise SignedOut()
        return account

    def set_phone(self, account_id: str, phone: str, client_ip: str | None) -> SettingsResult:
        """An empty field removes the number."""
        account = self.account(account_id)
        typed = phone.strip()[:50]
        new_phone = normalise_french_phone(typed) if typed else None
        if typed and new_phone is None:
            return SettingsResult({"phone": PHONE_FORMAT_ERROR})
        if new_phone != account.phone:
            self._accounts.save(account.updated(phone=new_phone))
            self._audit.record(account_id, "phone-changed", client_ip)
        return SettingsResult()

    def change_password(
        self,
        account_id: str,
        token: str,
        password: str,
        answer: str,
        new_password: str,
        confirmation: str,
        client_ip: str | None,
    ) -> SettingsResult:
        """The current password (ASVS 2.1.6) and the secret answer (the guide) both prove the
        person: a borrowed session alone changes nothing. An account without a password
        (FranceConnect only) has none to give: it sets one with its secret answer.

        `token` is the session making the change: it stays open, every other one ends."""
        account = self.account(account_id)
        has_password = account.password_hash is not None
        errors: dict[str, str] = {}
        if has_password and not password:
            errors["password"] = MISSING_PASSWORD
        if not normalise_secret_answer(answer[:MAX_PASSWORD_FIELD]):
            errors["answer"] = MISSING_ANSWER
        errors.update(new_password_errors(account, new_password[:MAX_PASSWORD_FIELD], confirmation))
        if errors:  # nothing was guessed: nothing is counted
            return SettingsResult(errors)
        proofs = [(Credential.ANSWER, answer)]
        if has_password:  # checked first: the answer is only ever tried with the right password
            proofs.insert(0, (Credential.PASSWORD, password))
        refused = self._reauthenticate_all(account, proofs, client_ip)
        if refused is not None:
            return refused
        account = account.updated(
            password_hash=self._hasher.hash(new_password),
            temporary_password_hash=None,
            temporary_password_expires_at=None,
        )
        self._accounts.save(account)
        self._sessions.close_all(account_id, keep_token=token)
        self._audit.record(account_id, "password-changed", client_ip, {"via": "mon-compte"})
        self._mailer.send(
            password_changed_mail(
                to=account.email,
                given_name=account.first_given_name,
                recovery_url=self._recovery_url(account_id),
                portal_url=self._urls.base_url,
            )
        )
        return SettingsResult()

    def change_secret_question(
        self, account_id: str, credential: str, question: str, answer: str, client_ip: str | None
    ) -> SettingsResult:
        """`credential`: the password, or the current answer (see `credential_for`)."""
        account = self.account(account_id)
        question = " ".join(question.split())
        # "answer" names the current answer, when it is the proof: the new one is "new_answer".
        errors = {
            ("new_answer" if name == "answer" else name): message
            for name, message in secret_question_errors(question, answer).items()
        }
        refused = self._reauthenticate(account, self.credential_for(account), credential, client_ip)
        if refused is not None:
            return SettingsResult({**refused.errors, **errors}, refused.retry_after)
        if errors:
            return SettingsResult(errors)
        account = account.updated(
            secret_question=question,
            secret_answer_hash=self._hasher.hash(normalise_secret_answer(answer)),
        )
        self._accounts.save(account)
        self._audit.record(account_id, "secret-question-changed", client_ip)
        self._mailer.send(
            secret_question_changed_mail(
                to=account.email,
                given_name=account.first_given_name,
                recovery_url=self._recovery_url(account_id) or self._urls.path("/"),
                portal_url=self._urls.base_url,
            )
        )
        return SettingsResult()

    # The mail address ------------------------------------------------------------------------

    def credential_for(self, account: Account) -> Credential:
        """What proves the person for a change of secret question or address: the password, or
        the secret answer for an account without one (FranceConnect only)."""
        return Credential.PASSWORD if account.password_hash else Credential.ANSWER

    def request_email_change(
        self,
        account_id: str,
        new_email: str,
        confirmation: str,
        credential: str,
        client_ip: str | None,
    ) -> SettingsResult:
        """Whether or not another account has the new address, the same thing happens here: the
        link is mailed to it, and only its confirmation can tell (to the owner of that box)."""
        account = self.account(account_id)
        valid = validated_email(new_email)
        new_email = valid or normalise_typed_email(new_email)
        errors: dict[str, str] = {}
        if valid is None:
            errors["new_email"] = INVALID_EMAIL
        elif normalise_typed_email(confirmation) != new_email:
            errors["email_confirmation"] = EMAIL_CONFIRMATION_DIFFERS
        elif new_email == account.email:
            errors["new_email"] = SAME_EMAIL
        kind = self.credential_for(account)
        refused = self._reauthenticate(account, kind, credential, client_ip)
        if refused is not None:
            return SettingsResult({**refused.errors, **errors}, refused.retry_after)
        if errors:
            return SettingsResult(errors)
        secret = secrets.token_urlsafe(32)
        challenge_id = self._challenges.issue(
            Purpose.EMAIL_CHANGE,
            secret,
            lifetime=EMAIL_CHANGE_LIFETIME,
            subject=account_id,
            data={"email": new_email},
        )
        hours = int(EMAIL_CHANGE_LIFETIME.total_seconds() // 3600)
        link = self._urls.path(f"{CONFIRMATION_PATH}?jeton={challenge_id}.{secret}")
        given_name = account.first_given_name
        self._mailer.send(
            email_change_confirmation_mail(
                new_email, given_name, link, hours, portal_url=self._urls.base_url
            )
        )
        self._mailer.send(
            email_change_notice_mail(
                account.email, given_name, mask_email(new_email), portal_url=self._urls.base_url
            )
        )
        self._audit.record(account_id, "email-change-requested", client_ip)
        return SettingsResult()

    def confirm_email_change(
        self, link_token: str, client_ip: str | None, keep_token: str | None = None
    ) -> SettingsResult:
        """The link's token: single use, 24 hours. The old address is told the change is done.
        `keep_token`: the session of the browser that opened the link, if any, stays open."""
        challenge_id, _, secret = link_token.strip().partition(".")
        change = self._challenges.verify(
            challenge_id, Purpose.EMAIL_CHANGE, secret, EMAIL_CHANGE_TRIES
        )
        account = self._accounts.get(change.subject) if change and change.subject else None
        if change is None or account is None:
            return SettingsResult({"form": LINK_EXPIRED})
        new_email = change.data.get("email", "")
        old_email = account.email
        if new_email == old_email:
            return SettingsResult()
        if not self._accounts.change_email(account, new_email):
            return SettingsResult({"form": ADDRESS_TAKEN})
        # The identifier changed, as a credential does: every other session of the account ends,
        # as after a change of password (a token of another account keeps nothing open here).
        self._sessions.close_all(account.account_id, keep_token=keep_token)
        self._audit.record(account.account_id, "email-changed", client_ip)
        for address in (old_email, new_email):
            self._mailer.send(
                email_changed_mail(
                    address, account.first_given_name, portal_url=self._urls.base_url
                )
            )
        return SettingsResult()

    # Helpers ---------------------------------------------------------------------------------

    def _reauthenticate(
        self, account: Account, kind: Credential, secret: str, client_ip: str | None
    ) -> SettingsResult | None:
        """None when `secret` proves the person; else the refusal, counted like a login failure
        (a stolen session must not be a way to guess the password or the answer)."""
        return self._reauthenticate_all(account, [(kind, secret)], client_ip)

    def _reauthenticate_all(
        self, account: Account, proofs: list[tuple[Credential, str]], client_ip: str | None
    ) -> SettingsResult | None:
        """Checks each proof in turn, stopping at the first wrong one (its field gets the error).
        The whole submission is one try of the login throttle, counted before anything is
        checked, so concurrent submissions cannot outrun the delays."""
        first = "password" if proofs[0][0] is Credential.PASSWORD else "answer"
        given: list[tuple[str, str | None, str, str]] = []
        for kind, secret in proofs:
            secret = secret[:MAX_PASSWORD_FIELD]
            if kind is Credential.PASSWORD:
                given.append(("password", account.password_hash, secret, WRONG_PASSWORD))
            else:
                normalised = normalise_secret_answer(secret)
                given.append(("answer", account.secret_answer_hash, normalised, WRONG_ANSWER))
        for name, _, value, _ in given:
            if not value:  # not a guess: nothing is counted
                return SettingsResult(
                    {name: MISSING_PASSWORD if name == "password" else MISSING_ANSWER}
                )
        attempt = self._throttle.begin(account.email)
        if attempt.refused_until is not None:
            return SettingsResult(
                {first: too_many_tries(attempt.refused_until)}, attempt.refused_until
            )
        for name, stored, value, wrong in given:
            if not (stored and self._hasher.verify(stored, value)):
                self._audit.record(
                    account.account_id, "reauthentication-failure", client_ip, {"with": name}
                )
                if attempt.lock_if_wrong is not None:
                    self._audit.record(account.account_id, "lockout", client_ip)
                return SettingsResult({name: wrong})
        self._throttle.reset(account.email)
        return None

    def check_credential(
        self, account: Account, secret: str, client_ip: str | None
    ) -> tuple[dict[str, str], datetime | None]:
        """The proof a sensitive step asks (« Fermer mon compte »): the password, or the secret
        answer for an account without one; counted like a login failure when wrong."""
        refused = self._reauthenticate(account, self.credential_for(account), secret, client_ip)
        return ({}, None) if refused is None else (refused.errors, refused.retry_after)

    def _recovery_url(self, account_id: str) -> str | None:
        """The "Mot de passe oublié" page of one of the account's funders, for the mails."""
        dossiers = self._dossiers.list_for_account(account_id)
        return self._urls.recovery(dossiers[0].funder_code) if dossiers else None
