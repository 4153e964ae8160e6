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

Each change answers nothing, or raises `Invalid` (inputs to correct) or `Throttled` (too many
wrong proofs), keyed by the use case's inputs: `phone`, `password`, `secret_answer` (the current
answer), `new_password`, `confirmation`, `question`, `new_secret_answer`, `new_email`,
`email_confirmation`, `token` (the confirmation link). Each face puts them under its own fields.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
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
from chalicelib.services.accounts.proofs import Credential, Proof
from chalicelib.services.accounts.sessions import Sessions
from chalicelib.services.errors import Invalid, SignedOut, Throttled
from chalicelib.services.mail.delivery import DeliveryNotice
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
EMAIL_CHANGE_REFUSED = "email_change_refused"

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


class SettingsAccounts(AccountRepository, Protocol):
    def change_email(self, account: Account, new_email: str) -> bool: ...


class DossiersOfAccount(Protocol):
    def list_for_account(self, account_id: str) -> list[Dossier]: ...


class DeliveryNotices(Protocol):
    def notice_for(self, email: str) -> DeliveryNotice | None: ...


@dataclass(frozen=True)
class Overview:
    """« Mon compte »: the account, and SES's bounces or complaints on its address, if any."""

    account: Account
    mail_notice: DeliveryNotice | None


# The proofs' input names (errors are keyed by them), and what is said of each.
INPUT_OF = {Credential.PASSWORD: "password", Credential.ANSWER: "secret_answer"}
MISSING = {Credential.PASSWORD: MISSING_PASSWORD, Credential.ANSWER: MISSING_ANSWER}
WRONG = {Credential.PASSWORD: WRONG_PASSWORD, Credential.ANSWER: WRONG_ANSWER}


class AccountSettings:
    def __init__(
        self,
        accounts: SettingsAccounts,
        dossiers: DossiersOfAccount,
        sessions: Sessions,
        safeguards: Safeguards,
        mailer: Mailer,
        urls: PortalUrls,
        delivery: DeliveryNotices,
    ) -> None:
        self._accounts = accounts
        self._delivery = delivery
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

    def overview(self, account_id: str) -> Overview:
        account = self.account(account_id)
        return Overview(account, self._delivery.notice_for(account.email))

    def set_phone(self, account_id: str, phone: str, client_ip: str | None) -> str | None:
        """An empty field removes the number. Answers the number kept (E.164), or None."""
        account = self.account(account_id)
        typed = phone.strip()[:50]
        new_phone = normalise_french_phone(typed) if typed else None
        if typed and new_phone is None:
            raise Invalid({"phone": PHONE_FORMAT_ERROR})
        if new_phone != account.phone:
            self._accounts.save(account.updated(phone=new_phone))
            self._audit.record(account_id, "phone-changed", client_ip)
        return new_phone

    def change_password(
        self,
        account_id: str,
        token: str,
        proof: Proof,
        new_password: str,
        confirmation: str,
        client_ip: str | None,
    ) -> None:
        """The current password (ASVS 2.1.6) and the secret answer (the guide) both prove the
        person: a borrowed session alone changes nothing. An account without a password
        (FranceConnect only) has none to give: it sets one with its secret answer.

        `token` is the session making the change: it stays open, every other one ends."""
        account = self.account(account_id)
        has_password = account.password_hash is not None
        errors: dict[str, str] = {}
        if has_password and not proof.password:
            errors["password"] = MISSING_PASSWORD
        if not normalise_secret_answer(proof.secret_answer[:MAX_PASSWORD_FIELD]):
            errors["secret_answer"] = MISSING_ANSWER
        errors.update(new_password_errors(account, new_password[:MAX_PASSWORD_FIELD], confirmation))
        if errors:  # nothing was guessed: nothing is counted
            raise Invalid(errors)
        kinds = [Credential.ANSWER]
        if has_password:  # checked first: the answer is only ever tried with the right password
            kinds.insert(0, Credential.PASSWORD)
        self._reauthenticate(account, proof, kinds, client_ip)
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

    def change_secret_question(
        self, account_id: str, proof: Proof, question: str, answer: str, client_ip: str | None
    ) -> None:
        """`proof`: the password, or the current answer (see `credential_for`)."""
        account = self.account(account_id)
        question = " ".join(question.split())
        # "answer" names the new answer in the rules shared with the first login.
        errors = {
            ("new_secret_answer" if name == "answer" else name): message
            for name, message in secret_question_errors(question, answer).items()
        }
        self._reauthenticate(account, proof, [self.credential_for(account)], client_ip, errors)
        if errors:
            raise Invalid(errors)
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
        proof: Proof,
        client_ip: str | None,
    ) -> None:
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
        self._reauthenticate(account, proof, [self.credential_for(account)], client_ip, errors)
        if errors:
            raise Invalid(errors)
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

    def confirm_email_change(
        self, link_token: str, client_ip: str | None, keep_token: str | None = None
    ) -> None:
        """The link's token: single use, 24 hours. The old address is told the change is done.
        `keep_token`: the session of the browser that opened the link, if any, stays open."""
        challenge_id, _, secret = link_token.strip().partition(".")
        change = self._challenges.verify(
            challenge_id, Purpose.EMAIL_CHANGE, secret, EMAIL_CHANGE_TRIES
        )
        account = self._accounts.get(change.subject) if change and change.subject else None
        if change is None or account is None:
            raise Invalid({"token": LINK_EXPIRED}, EMAIL_CHANGE_REFUSED)
        new_email = change.data.get("email", "")
        old_email = account.email
        if new_email == old_email:
            return
        if not self._accounts.change_email(account, new_email):
            raise Invalid({"token": ADDRESS_TAKEN}, EMAIL_CHANGE_REFUSED)
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

    # Helpers ---------------------------------------------------------------------------------

    def check_credential(self, account: Account, proof: Proof, client_ip: str | None) -> None:
        """The proof a sensitive step asks (« Fermer mon compte »): the password, or the secret
        answer for an account without one; counted like a login failure when wrong."""
        self._reauthenticate(account, proof, [self.credential_for(account)], client_ip)

    def _reauthenticate(
        self,
        account: Account,
        proof: Proof,
        kinds: list[Credential],
        client_ip: str | None,
        errors: dict[str, str] | None = None,
    ) -> None:
        """Checks each proof of `kinds` in turn, stopping at the first wrong one (its input gets
        the error, raised with `errors`, the other inputs' to correct). A wrong one counts like
        a login failure (a stolen session must not be a way to guess the password or the
        answer). The whole submission is one try of the login throttle, counted before anything
        is checked, so concurrent submissions cannot outrun the delays."""
        given: list[tuple[Credential, str | None, str]] = []
        for kind in kinds:
            secret = proof.of(kind)[:MAX_PASSWORD_FIELD]
            if kind is Credential.PASSWORD:
                given.append((kind, account.password_hash, secret))
            else:
                given.append((kind, account.secret_answer_hash, normalise_secret_answer(secret)))
        for kind, _, value in given:
            if not value:  # not a guess: nothing is counted
                raise Invalid({INPUT_OF[kind]: MISSING[kind], **(errors or {})})
        attempt = self._throttle.begin(account.email)
        if attempt.refused_until is not None:
            until = attempt.refused_until
            raise Throttled(until, too_many_tries(until), INPUT_OF[kinds[0]], errors)
        for kind, stored, value in given:
            if not (stored and self._hasher.verify(stored, value)):
                self._audit.record(
                    account.account_id, "reauthentication-failure", client_ip, {"with": kind.value}
                )
                if attempt.lock_if_wrong is not None:
                    self._audit.record(account.account_id, "lockout", client_ip)
                raise Invalid({INPUT_OF[kind]: WRONG[kind], **(errors or {})})
        self._throttle.reset(account.email)

    def _recovery_url(self, account_id: str) -> str | None:
        """The "Mot de passe oublié" page of one of the account's funders, for the mails."""
        dossiers = self._dossiers.list_for_account(account_id)
        return self._urls.recovery(dossiers[0].funder_code) if dossiers else None
