"""« Mot de passe oublié » (guide, step 3), hardened as docs/specs/security.md says.

1. `request`: mail address + arithmetic challenge. Whatever the address, the same work is done
   on the request path and the same answer comes back: a "ticket" (a code challenge, 30 minutes,
   5 tries, not yet armed) and one message on the notifications queue. The address is not even
   looked up here, so neither the screen nor a stopwatch can tell a known address.
2. `deliver` (notifications worker, off the request path): when the address has an account, arms
   the ticket with a fresh 8-digit code and mails it; an account that never finished its first
   login gets a new temporary password instead. An unknown address gets nothing.
3. `check_code`: the right code (single use) opens a reset step, which shows the secret question.
4. `reset_password`: secret answer + new password. Wrong answers count like login failures. On
   success every session of the account ends and a mail says the password changed.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.services.accounts.identity import normalise_typed_email, validated_email
from chalicelib.services.accounts.login import (
    MAX_PASSWORD_FIELD,
    new_password_errors,
    too_many_tries,
)
from chalicelib.services.accounts.model import (
    Account,
    AccountRepository,
    PortalUrls,
)
from chalicelib.services.accounts.passwords import (
    arithmetic_challenge,
    generate_temporary_password,
    normalise_secret_answer,
)
from chalicelib.services.accounts.sessions import Sessions
from chalicelib.services.accounts.signup import TEMPORARY_PASSWORD_LIFETIME
from chalicelib.services.errors import Expired, Invalid, Throttled
from chalicelib.services.mail.mails import (
    Mailer,
    password_changed_mail,
    recovery_code_mail,
    recovery_temporary_password_mail,
)
from chalicelib.services.security.challenges import Purpose, answer_hash
from chalicelib.services.security.safeguards import Safeguards
from chalicelib.services.security.throttling import TOO_MANY_REQUESTS, Attempt

CODE_LIFETIME = timedelta(minutes=30)
CODE_TRIES = 5
CODE_DIGITS = 8
ANSWER_TRIES = 5

INVALID_EMAIL = "Saisissez votre adresse mail, par exemple nom@exemple.fr."
TOO_MANY_OPERATIONS = (
    "Trop de demandes d’opération depuis votre connexion. Réessayez dans quelques minutes."
)
WRONG_ARITHMETIC = "Le résultat de l'opération est incorrect. Calculez la nouvelle opération."
WRONG_CODE = (
    "Ce code est incorrect ou n'est plus valable. Vérifiez les 8 chiffres du dernier courriel "
    "reçu ; après 5 essais ou 30 minutes, demandez un nouveau code."
)
WRONG_ANSWER = "La réponse à la question secrète est incorrecte."
RESET_EXPIRED = (
    "Cette demande n'est plus valable (30 minutes ou 5 essais au plus). "
    "Recommencez « Mot de passe oublié »."
)


@dataclass(frozen=True)
class RecoveryRequest:
    """The queued message: it names the ticket, never the address nor a secret."""

    ticket: str
    funder_code: str
    client_ip: str | None


class RecoveryQueue(Protocol):
    def enqueue(self, notifications: Sequence[RecoveryRequest]) -> None: ...


class ChallengeStore(Protocol):
    """What the recovery needs of the challenges' repository beyond `Challenges`."""

    def arm(self, challenge_id: str, answer_hash: str, subject: str) -> bool: ...

    def disarm(self, challenge_id: str) -> None: ...

    def claim_try(self, challenge_id: str, max_tries: int) -> int | None: ...

    def consume(self, challenge_id: str) -> bool: ...

    def delete(self, challenge_id: str) -> None: ...


@dataclass(frozen=True)
class Arithmetic:
    challenge_id: str
    question: str


# The code of `Expired`: the reset step is gone (used, its tries spent, its time over).
RECOVERY_EXPIRED = "recovery_expired"
# The key of the secret answer's refusals (the pages' field `answer`, the API's `secret_answer`).
SECRET_ANSWER = "secret_answer"


@dataclass(frozen=True)
class RecoveryStep:
    """A step opened: the code's ticket (after the request), or the reset step with its secret
    question (after the code); and when it ends."""

    ticket: str
    expires_at: datetime
    secret_question: str | None = None


def reset_expired(errors: dict[str, str] | None = None) -> Expired:
    return Expired({**(errors or {}), "form": RESET_EXPIRED}, RECOVERY_EXPIRED)


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


class Recovery:
    def __init__(
        self,
        accounts: AccountRepository,
        challenge_store: ChallengeStore,
        queue: RecoveryQueue,
        sessions: Sessions,
        safeguards: Safeguards,
        mailer: Mailer,
        urls: PortalUrls,
    ) -> None:
        self._accounts = accounts
        self._store = challenge_store
        self._queue = queue
        self._sessions = sessions
        self._challenges = safeguards.challenges
        self._throttle = safeguards.throttle
        self._hasher = safeguards.hasher
        self._audit = safeguards.audit
        self._clock = safeguards.clock
        self._limiter = safeguards.limiter
        self._mailer = mailer
        self._urls = urls

    def issue_arithmetic(self, client_ip: str | None) -> Arithmetic:
        """An operation handed out on its own (the API's), counted as a captcha: raises
        `RateLimited` past the address's allowance. (The page draws its operation with the form.)"""
        self._limiter.check("captcha", client_ip, TOO_MANY_OPERATIONS)
        return self.new_arithmetic()

    def new_arithmetic(self) -> Arithmetic:
        question, answer = arithmetic_challenge()
        challenge_id = self._challenges.issue(Purpose.ARITHMETIC, answer)
        return Arithmetic(challenge_id, question)

    # 1. The request: identical work whatever the address ------------------------------------

    def request(
        self,
        funder_code: str,
        email: str,
        arithmetic_id: str,
        arithmetic_answer: str,
        client_ip: str | None,
    ) -> RecoveryStep:
        """The code's ticket, the same answer whether or not the address has an account.
        Raises `RateLimited` past the client address's allowance of requests, `Invalid` with
        the inputs to correct."""
        self._limiter.check("recovery", client_ip, TOO_MANY_REQUESTS)
        errors: dict[str, str] = {}
        valid = validated_email(email)
        email = valid or normalise_typed_email(email)
        if valid is None:
            errors["email"] = INVALID_EMAIL
        if self._challenges.verify(arithmetic_id, Purpose.ARITHMETIC, arithmetic_answer) is None:
            errors["arithmetic_answer"] = WRONG_ARITHMETIC
        if errors:
            raise Invalid(errors)
        # Unarmed until the worker finds the account: its answer is a secret nobody holds.
        ticket = self._challenges.issue(
            Purpose.RECOVERY_CODE,
            secrets.token_hex(32),
            lifetime=CODE_LIFETIME,
            data={"email": email, "funder": funder_code},
        )
        self._queue.enqueue([RecoveryRequest(ticket, funder_code, client_ip)])
        return RecoveryStep(ticket, self._clock() + CODE_LIFETIME)

    # 2. The worker: the mail, if the address has an account -----------------------------------

    def deliver(self, request: RecoveryRequest) -> bool:
        """Sends the code (or a temporary password) at most once per ticket; True if a mail went.
        A mail that cannot be sent raises, after undoing, so that the queue tries again."""
        ticket = self._challenges.peek(request.ticket, Purpose.RECOVERY_CODE)
        if ticket is None or ticket.subject:
            return False
        account = self._accounts.find_by_email(ticket.data.get("email", ""))
        if account is None:
            return False
        if account.secret_answer_hash is None:
            return self._deliver_temporary_password(request, account)
        code = new_code()
        if not self._store.arm(
            request.ticket, answer_hash(request.ticket, code), account.account_id
        ):
            return False
        minutes = int(CODE_LIFETIME.total_seconds() // 60)
        try:
            self._mailer.send(
                recovery_code_mail(
                    to=account.email, code=code, minutes=minutes, portal_url=self._urls.base_url
                )
            )
        except Exception:
            self._store.disarm(request.ticket)
            raise
        self._audit.record(
            account.account_id,
            "recovery-code-sent",
            request.client_ip,
            {"funder": ticket.data.get("funder", "")},
        )
        return True

    def _deliver_temporary_password(self, request: RecoveryRequest, account: Account) -> bool:
        # Armed with an answer nothing hashes to: this ticket never opens the reset step.
        if not self._store.arm(request.ticket, "", account.account_id):
            return False
        temporary = generate_temporary_password()
        account = account.updated(
            password_hash=None,
            temporary_password_hash=self._hasher.hash(temporary),
            temporary_password_expires_at=self._clock() + TEMPORARY_PASSWORD_LIFETIME,
            temporary_password_used=False,
        )
        self._accounts.save(account)
        self._sessions.close_all(account.account_id)
        try:
            self._mailer.send(
                recovery_temporary_password_mail(
                    to=account.email,
                    given_name=account.first_given_name,
                    temporary_password=temporary,
                    login_url=self._urls.login(request.funder_code),
                    portal_url=self._urls.base_url,
                )
            )
        except Exception:
            self._store.disarm(request.ticket)
            raise
        self._audit.record(account.account_id, "recovery-temporary-password", request.client_ip)
        return True

    # 3. The code ---------------------------------------------------------------------------

    def check_code(self, ticket_id: str, code: str) -> RecoveryStep:
        """The reset step the right code opens; raises `Invalid` under `code` otherwise."""
        code = "".join(code.split())[:32]
        ticket = self._challenges.verify(ticket_id, Purpose.RECOVERY_CODE, code, CODE_TRIES)
        account = self._accounts.get(ticket.subject) if ticket and ticket.subject else None
        if ticket is None or account is None or account.secret_answer_hash is None:
            raise Invalid({"code": WRONG_CODE})
        reset_id = self._challenges.issue(
            Purpose.RECOVERY_RESET,
            secrets.token_hex(32),
            lifetime=max(ticket.expires_at - self._clock(), timedelta(minutes=1)),
            subject=account.account_id,
            data={
                "funder": ticket.data.get("funder", ""),
                "question": account.secret_question or "",
            },
        )
        return RecoveryStep(reset_id, ticket.expires_at, account.secret_question)

    def reset_step(self, reset_id: str) -> RecoveryStep:
        """The open reset step (its question); raises `Expired` when it is gone."""
        step = self._challenges.peek(reset_id, Purpose.RECOVERY_RESET)
        if step is None:
            raise reset_expired()
        return RecoveryStep(reset_id, step.expires_at, step.data.get("question", ""))

    # 4. The secret answer and the new password -------------------------------------------------

    def reset_password(
        self,
        reset_id: str,
        answer: str,
        new_password: str,
        confirmation: str,
        client_ip: str | None,
    ) -> None:
        """Sets the new password once the secret answer is right. Raises `Invalid` (the new
        password's rules, a wrong answer under `secret_answer`), `Throttled` (the login delays,
        under `secret_answer`), `Expired` (the step is gone, its last try spent included)."""
        step = self._challenges.peek(reset_id, Purpose.RECOVERY_RESET)
        account = self._accounts.get(step.subject) if step and step.subject else None
        if step is None or account is None or account.secret_answer_hash is None:
            raise reset_expired()
        # The new password's rules first: a password refused for its form wastes no try.
        errors = new_password_errors(account, new_password[:MAX_PASSWORD_FIELD], confirmation)
        if errors:
            raise Invalid(errors)
        # Both counts are taken before the answer is checked: concurrent answers cannot outrun
        # the login delays nor the step's 5 tries.
        attempt = self._throttle.begin(account.email)
        if attempt.refused_until is not None:
            until = attempt.refused_until
            raise Throttled(until, too_many_tries(until), SECRET_ANSWER)
        tries = self._store.claim_try(reset_id, ANSWER_TRIES)
        if tries is None:  # not deleted: a right answer still being checked may use the step
            raise reset_expired()
        normalised = normalise_secret_answer(answer[:MAX_PASSWORD_FIELD])
        if not self._hasher.verify(account.secret_answer_hash, normalised):
            raise self._wrong_answer(reset_id, account.account_id, attempt, tries, client_ip)
        if not self._store.consume(reset_id):  # a concurrent right answer used the step
            raise reset_expired()
        account = account.updated(
            password_hash=self._hasher.hash(new_password),
            temporary_password_hash=None,
            temporary_password_expires_at=None,
        )
        self._accounts.save(account)
        self._sessions.close_all(account.account_id)
        self._throttle.reset(account.email)
        funder_code = step.data.get("funder", "")
        self._audit.record(account.account_id, "password-reset", client_ip, {"funder": funder_code})
        self._mailer.send(
            password_changed_mail(
                to=account.email,
                given_name=account.first_given_name,
                recovery_url=self._urls.recovery(funder_code) if funder_code else None,
                portal_url=self._urls.base_url,
            )
        )

    def _wrong_answer(
        self,
        reset_id: str,
        account_id: str,
        attempt: Attempt,
        tries: int,
        client_ip: str | None,
    ) -> Invalid:
        self._audit.record(account_id, "recovery-answer-failure", client_ip)
        if attempt.lock_if_wrong is not None:
            self._audit.record(account_id, "lockout", client_ip)
        if tries >= ANSWER_TRIES:
            self._store.delete(reset_id)
            return reset_expired({SECRET_ANSWER: WRONG_ANSWER})
        return Invalid({SECRET_ANSWER: WRONG_ANSWER})
