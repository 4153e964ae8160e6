"""« Ajouter un dossier »: linking a dossier to an account only on a proof (docs/specs/security.md,
"Linking a dossier to an account").

A name, a birth date and a dossier number are not secrets: they find a dossier, they never hand
it over. The identity of an account made with « Je ne possède pas encore de dossier » is whatever
was typed. So a dossier of the account's identity is linked only on one of these proofs:

1. the funder's `courriel` for the dossier is the account's address. That address is confirmed:
   nobody uses an account without the temporary password mailed to it (or, after a change, the
   link mailed to the new address) — so the link is made at once;
2. a one-time code (8 digits, 30 minutes, 5 tries, stored hashed) mailed to the dossier's
   `courriel` when the funder gave one that is not the account's address;
3. the `code_activation` the funder printed on the décision de prise en charge (funder file,
   stored hashed), typed in the same field, for a dossier with no courriel or an old one;
4. FranceConnect, outside this module: an identity the State verified (franceconnect_login.py).

Without any, the dossier cannot be claimed online: the person asks the funder for an activation
code or to send the right courriel. Every attempt that does not link at once — unknown number,
someone else's identity, a dossier held by another account, no proof yet — gets the same answer
(a claim ticket, "if this dossier is yours, a code went to the funder's address") and the same
work, so numbers cannot be enumerated. Attempts are counted before they are looked at, per account
and per client address, with the login's growing delays; every failure is audited (and so
counted in the metrics). A dossier held by another account is never re-linked: its owner is told.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from chalicelib.services.accounts.identity import identity_key, normalise_email
from chalicelib.services.accounts.model import Account, AuditLog, Clock, PortalUrls
from chalicelib.services.errors import Expired, Invalid, SignedOut, Throttled
from chalicelib.services.formatting import paris_time
from chalicelib.services.funders.model import Funder
from chalicelib.services.mail.mails import (
    Mailer,
    dossier_claim_attempt_mail,
    dossier_claim_code_mail,
)
from chalicelib.services.security.challenges import Challenges, Purpose
from chalicelib.services.security.throttling import FAILURE_MEMORY, delay_after
from chalicelib.services.trainings.dossiers import Dossier, activation_code_hash

if TYPE_CHECKING:
    from chalicelib.services.funders.activations import AccountActivations

CLAIM_LIFETIME = timedelta(minutes=30)
CLAIM_TRIES = 5
CODE_DIGITS = 8
MAX_CODE_LENGTH = 80  # longer is neither a mailed code nor an activation code
# A training centre's trainees may share one address: more free attempts there than per account.
ADDRESS_FREE_ATTEMPTS = 20

ALREADY_YOURS = "Ce dossier est déjà rattaché à votre compte."
NO_FUNDER = "Choisissez le financeur indiqué sur votre décision."
NO_NUMBER = "Saisissez le numéro de dossier indiqué sur votre décision de prise en charge."
PENDING = (
    "Si ce numéro est celui d’un dossier à vos nom, prénom et date de naissance chez ce financeur, "
    "nous venons d’envoyer un code de confirmation à l’adresse mail que le financeur nous a donnée "
    "pour ce dossier (quand ce n’est pas celle de votre compte). Saisissez ce code, valable "
    "30 minutes, ou le code d’activation imprimé sur votre décision de prise en charge s’il y en "
    "a un. Sans l’un ni l’autre, ce dossier ne peut pas être ajouté en ligne : vérifiez le numéro, "
    "ou contactez votre financeur."
)
WRONG_CODE = (
    "Ce code est incorrect ou n’est plus valable. Vérifiez le code reçu par courriel ou le code "
    "d’activation de votre décision ; sans l’un ni l’autre, contactez votre financeur."
)
EXPIRED = (
    "Cette demande n’est plus valable (30 minutes ou 5 essais au plus). "
    "Recommencez « Ajouter un dossier »."
)


def too_many_attempts(retry_after: datetime) -> str:
    local = paris_time(retry_after)
    return (
        "Trop de tentatives d’ajout de dossier. Par sécurité, réessayez après "
        f"{local:%H:%M} (heure de Paris)."
    )


class ClaimCounters(Protocol):
    def increment(self, key: str, expires_at: datetime) -> int: ...

    def locked_until(self, key: str) -> datetime | None: ...

    def take_turn(
        self, key: str, seen: datetime | None, until: datetime, expires_at: datetime
    ) -> bool: ...

    def delete(self, key: str) -> None: ...


class ClaimDossiers(Protocol):
    def get(
        self, funder_code: str, dossier_number: str, consistent: bool = False
    ) -> Dossier | None: ...

    def link_account(self, funder_code: str, dossier_number: str, account_id: str) -> bool: ...


class AccountLookup(Protocol):
    def get(self, account_id: str) -> Account | None: ...


class ClaimThrottle:
    """The login's delays (free attempts, then 1 min, 2, 4… capped at 1 hour), counted *before*
    the attempt is looked at: each attempt gets its own number from an atomic counter, and past
    the free ones only the attempt that wins the compare-and-set of the lock goes on — so a burst
    of concurrent requests cannot try more than the rule allows."""

    def __init__(
        self,
        counters: ClaimCounters,
        clock: Clock,
        address_free_attempts: int = ADDRESS_FREE_ATTEMPTS,
    ) -> None:
        self._counters = counters
        self._clock = clock
        self._address_extra = address_free_attempts

    @staticmethod
    def _account_key(account_id: str) -> str:
        return f"dossier-claims#account#{account_id}"

    @staticmethod
    def _address_key(client_ip: str) -> str:
        return "dossier-claims#ip#" + hashlib.sha256(client_ip.encode()).hexdigest()

    def attempt(self, account_id: str, client_ip: str | None) -> datetime | None:
        """None when this attempt may go on; otherwise until when the caller must wait."""
        now = self._clock()
        keys = [(self._account_key(account_id), 0)]
        if client_ip:
            keys.append((self._address_key(client_ip), self._address_extra))
        seen: dict[str, datetime | None] = {}
        for key, _extra in keys:
            until = self._counters.locked_until(key)
            if until is not None and until > now:
                return until
            seen[key] = until
        for key, extra in keys:
            count = self._counters.increment(key, expires_at=now + FAILURE_MEMORY)
            delay = delay_after(count - extra)
            if delay is None:
                continue
            if not self._counters.take_turn(key, seen[key], now + delay, now + FAILURE_MEMORY):
                return self._counters.locked_until(key) or now + delay
        return None

    def succeeded(self, account_id: str) -> None:
        """A dossier linked: the account starts afresh (the address keeps its count)."""
        self._counters.delete(self._account_key(account_id))


@dataclass(frozen=True)
class ClaimResult:
    """Either the dossier is linked, or a claim awaits its code (mailed or printed)."""

    linked: Dossier | None = None
    claim_id: str | None = None


class WrongCode(Invalid):
    """A code that proves nothing; `claim_id` is the claim still open for another try, if any."""

    def __init__(self, claim_id: str | None) -> None:
        super().__init__({"code": WRONG_CODE})
        self.claim_id = claim_id


class ClaimThrottled(Throttled):
    """Too many attempts; `claim_id` is the claim that was being confirmed, if any."""

    def __init__(self, retry_after: datetime, key: str, claim_id: str | None = None) -> None:
        super().__init__(retry_after, too_many_attempts(retry_after), key)
        self.claim_id = claim_id


def same_identity(account: Account, dossier: Dossier) -> bool:
    return (
        account.birth_date is not None
        and identity_key(account.family_name, account.given_names, account.birth_date)
        == dossier.identity_key
    )


def proven_by_address(dossier: Dossier, email: str) -> bool:
    """The funder's courriel for the dossier is this (confirmed) address."""
    return bool(dossier.email) and normalise_email(dossier.email or "") == normalise_email(email)


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


class DossierClaims:
    def __init__(
        self,
        dossiers: ClaimDossiers,
        accounts: AccountLookup,
        challenges: Challenges,
        throttle: ClaimThrottle,
        funders: Callable[[], dict[str, Funder]],
        mailer: Mailer,
        audit: AuditLog,
        urls: PortalUrls,
        activations: AccountActivations | None = None,
    ) -> None:
        self._dossiers = dossiers
        self._accounts = accounts
        self._activations = activations
        self._challenges = challenges
        self._throttle = throttle
        self._funders = funders
        self._mailer = mailer
        self._audit = audit
        self._urls = urls

    def _funder_name(self, funder_code: str) -> str:
        funder = self._funders().get(funder_code)
        return funder.name if funder else funder_code

    # 1. The number ------------------------------------------------------------------------

    def _account(self, account_id: str) -> Account:
        account = self._accounts.get(account_id)
        if account is None:  # closed since the login
            raise SignedOut()
        return account

    def request(
        self, account_id: str, funder_code: str, number: str, client_ip: str | None
    ) -> ClaimResult:
        """Raises `Invalid` (`funder_code`, `dossier_number`), `ClaimThrottled`, `SignedOut`."""
        account = self._account(account_id)
        number = number.strip()
        errors: dict[str, str] = {}
        if funder_code not in self._funders():
            errors["funder_code"] = NO_FUNDER
        if not number:
            errors["dossier_number"] = NO_NUMBER
        if errors:
            raise Invalid(errors)
        self._count_attempt(account, client_ip, "dossier_number")
        dossier = self._dossiers.get(funder_code, number)
        if dossier is not None and dossier.account_id == account.account_id:
            raise Invalid({"dossier_number": ALREADY_YOURS})  # theirs: it tells nothing
        mine = dossier is not None and same_identity(account, dossier)
        if (
            dossier is not None
            and mine
            and dossier.account_id is None
            and proven_by_address(dossier, account.email)
        ):
            if self._link(account, dossier, client_ip):
                return ClaimResult(linked=dossier)
            # Refused: since the read above, the dossier was withdrawn or purged, or another
            # account linked it. The rest answers on what is there now (strongly consistent,
            # after the refused write): no code mailed for a dossier gone, its owner told.
            dossier = self._dossiers.get(funder_code, number, consistent=True)
        # From here on, one answer whatever the case: a claim ticket that only a code can use.
        code = new_code()
        sent_to: str | None = None
        if dossier is not None and mine and dossier.account_id is None and dossier.email:
            sent_to = dossier.email
        elif dossier is not None and mine and dossier.account_id is not None:
            self.tell_owner(dossier)
        claim_id = self._challenges.issue(
            Purpose.DOSSIER_CLAIM,
            # Unsent, its answer is a secret nobody holds: no code can use this ticket.
            code if sent_to else secrets.token_hex(32),
            lifetime=CLAIM_LIFETIME,
            subject=account.account_id,
            data={"funder": funder_code, "number": number, **({"sent": "1"} if sent_to else {})},
        )
        if sent_to:
            self._mailer.send(
                dossier_claim_code_mail(
                    to=sent_to,
                    code=code,
                    minutes=int(CLAIM_LIFETIME.total_seconds() // 60),
                    dossier_number=number,
                    funder_name=self._funder_name(funder_code),
                    portal_url=self._urls.base_url,
                )
            )
        # The same event whatever the case: the trail is in the person's « Mes données ».
        self._audit.record(
            account.account_id,
            "dossier-claim-unproven",
            client_ip,
            {"funder": funder_code, "dossier": number},
        )
        return ClaimResult(claim_id=claim_id)

    # 2. The code (mailed, or printed on the décision) -------------------------------------

    def confirm(
        self, account_id: str, claim_id: str, code: str, client_ip: str | None
    ) -> ClaimResult:
        """Raises `Expired` (`code`), `WrongCode`, `ClaimThrottled`, `SignedOut`."""
        account = self._account(account_id)
        claim = self._challenges.peek(claim_id, Purpose.DOSSIER_CLAIM) if claim_id else None
        if claim is None or claim.subject != account.account_id:
            raise Expired({"code": EXPIRED})
        self._count_attempt(account, client_ip, "code", claim_id)
        code = code.strip()[:MAX_CODE_LENGTH]
        funder_code, number = claim.data.get("funder", ""), claim.data.get("number", "")
        dossier = self._dossiers.get(funder_code, number)
        claimable = (
            dossier is not None and dossier.account_id is None and same_identity(account, dossier)
        )
        proven = False
        if claimable and dossier is not None and dossier.activation_code_hash and code:
            typed = activation_code_hash(funder_code, number, code)
            proven = hmac.compare_digest(typed, dossier.activation_code_hash)
        # Otherwise the mailed code. (A ticket left after an activation code opens nothing more:
        # its dossier is linked.)
        if not proven:
            verified = self._challenges.verify(
                claim_id, Purpose.DOSSIER_CLAIM, "".join(code.split()), CLAIM_TRIES
            )
            # An unsent ticket opens nothing, whatever answer a test stage's challenges accept.
            proven = claimable and verified is not None and verified.data.get("sent") == "1"
        if proven and dossier is not None and self._link(account, dossier, client_ip):
            return ClaimResult(linked=dossier)
        self._audit.record(
            account.account_id,
            "dossier-claim-failed",
            client_ip,
            {"funder": funder_code, "dossier": number},
        )
        alive = self._challenges.peek(claim_id, Purpose.DOSSIER_CLAIM) is not None
        raise WrongCode(claim_id if alive else None)

    # Shared by sign-up ----------------------------------------------------------------------

    def tell_owner(self, dossier: Dossier) -> None:
        """Someone tried to take a linked dossier: its owner hears of it, with nothing about the
        someone (not even their address in the owner's trail, which « Mes données » shows)."""
        owner = self._accounts.get(dossier.account_id) if dossier.account_id else None
        if owner is None:
            return
        self._audit.record(
            owner.account_id,
            "dossier-claim-attempt",
            None,
            {"funder": dossier.funder_code, "dossier": dossier.dossier_number},
        )
        self._mailer.send(
            dossier_claim_attempt_mail(
                to=owner.email,
                given_name=owner.first_given_name,
                dossier_number=dossier.dossier_number,
                funder_name=self._funder_name(dossier.funder_code),
                login_url=self._urls.login(dossier.funder_code),
                portal_url=self._urls.base_url,
            )
        )

    # ----------------------------------------------------------------------------------------

    def _count_attempt(
        self, account: Account, client_ip: str | None, key: str, claim_id: str | None = None
    ) -> None:
        """Counts this attempt before it is looked at; raises `ClaimThrottled` past the rule."""
        retry_after = self._throttle.attempt(account.account_id, client_ip)
        if retry_after is None:
            return
        self._audit.record(account.account_id, "dossier-claim-throttled", client_ip)
        raise ClaimThrottled(retry_after, key, claim_id)

    def _link(self, account: Account, dossier: Dossier, client_ip: str | None) -> bool:
        """The conditional write: never over another account's link."""
        if not self._dossiers.link_account(
            dossier.funder_code, dossier.dossier_number, account.account_id
        ):
            return False
        if self._activations is not None:
            self._activations.dossier_linked(account, dossier.funder_code, dossier.dossier_number)
        self._throttle.succeeded(account.account_id)
        self._audit.record(
            account.account_id,
            "dossier-added",
            client_ip,
            {"funder": dossier.funder_code, "dossier": dossier.dossier_number},
        )
        return True
