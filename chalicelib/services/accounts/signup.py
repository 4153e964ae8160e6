"""S'inscrire: the guide's step 1, with no way to learn whether an address has an account."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from chalicelib.services.accounts.identity import (
    identity_key,
    normalise_typed_email,
    validated_email,
)
from chalicelib.services.accounts.model import (
    Account,
    AccountRepository,
    AuditLog,
    Clock,
    CreateOutcome,
    Hasher,
    PortalUrls,
)
from chalicelib.services.accounts.passwords import generate_temporary_password
from chalicelib.services.errors import Invalid
from chalicelib.services.formatting import paris_date
from chalicelib.services.funder_files.values import parse_date
from chalicelib.services.funders.model import Funder
from chalicelib.services.mail.mails import (
    Mailer,
    MailNotSent,
    address_already_registered_mail,
    dossier_already_linked_mail,
    temporary_password_mail,
)
from chalicelib.services.security.challenges import Challenges, Purpose
from chalicelib.services.security.throttling import TOO_MANY_REQUESTS, RateLimiter
from chalicelib.services.trainings.dossier_claims import proven_by_address
from chalicelib.services.trainings.dossiers import Dossier

TEMPORARY_PASSWORD_LIFETIME = timedelta(hours=72)
MAX_NAME_LENGTH = 100

NO_MATCHING_DOSSIER = (
    "Nous ne trouvons pas ce numéro de dossier avec ces nom, prénom et date de naissance. "
    "Vérifiez-les sur votre décision de prise en charge : ils doivent être identiques."
)


MAIL_NOT_SENT = (
    "Le courriel n’a pas pu être envoyé à cette adresse. Vérifiez-la. Si elle est juste, "
    "réessayez dans quelques minutes avec « Mot de passe oublié » sur la page de connexion : "
    "vous recevrez un nouveau mot de passe provisoire."
)


class DossierLookup(Protocol):
    def get(
        self, funder_code: str, dossier_number: str, consistent: bool = False
    ) -> Dossier | None: ...


@dataclass
class SignupForm:
    family_name: str = ""
    given_names: str = ""
    birth_date: str = ""
    no_dossier: bool = False
    dossier_number: str = ""
    email: str = ""
    email_confirmation: str = ""
    captcha_id: str = ""
    captcha_answer: str = ""
    terms_accepted: bool = False


class Signup:
    def __init__(
        self,
        accounts: AccountRepository,
        dossiers: DossierLookup,
        challenges: Challenges,
        hasher: Hasher,
        mailer: Mailer,
        audit: AuditLog,
        urls: PortalUrls,
        clock: Clock,
        owner_alert: Callable[[Dossier], None],
        limiter: RateLimiter,
    ) -> None:
        """`owner_alert` tells the owner of a linked dossier that someone named it."""
        self._accounts = accounts
        self._dossiers = dossiers
        self._challenges = challenges
        self._hasher = hasher
        self._mailer = mailer
        self._audit = audit
        self._urls = urls
        self._clock = clock
        self._owner_alert = owner_alert
        self._limiter = limiter

    def check_fields(self, form: SignupForm) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not form.family_name.strip():
            errors["family_name"] = "Saisissez votre nom."
        elif len(form.family_name) > MAX_NAME_LENGTH:
            errors["family_name"] = f"Votre nom doit faire {MAX_NAME_LENGTH} caractères au plus."
        if not form.given_names.strip():
            errors["given_names"] = "Saisissez votre prénom."
        elif len(form.given_names) > MAX_NAME_LENGTH:
            errors["given_names"] = f"Votre prénom doit faire {MAX_NAME_LENGTH} caractères au plus."
        try:
            birth_date = parse_date(form.birth_date.strip())
            if birth_date >= paris_date(self._clock()):
                errors["birth_date"] = "La date de naissance doit être dans le passé."
        except ValueError:
            errors["birth_date"] = (
                "Saisissez votre date de naissance au format JJ/MM/AAAA, par exemple 14/05/1990."
            )
        if not form.no_dossier and not form.dossier_number.strip():
            errors["dossier_number"] = (
                "Saisissez le numéro de dossier indiqué sur votre décision de prise en charge, "
                "ou cochez « Je ne possède pas encore de dossier »."
            )
        email = validated_email(form.email)
        if email is None:
            errors["email"] = "Saisissez une adresse mail valide, par exemple nom@exemple.fr."
        elif normalise_typed_email(form.email_confirmation) != email:
            errors["email_confirmation"] = "La confirmation doit être identique à l'adresse mail."
        if not form.terms_accepted:
            errors["terms_accepted"] = (
                "Vous devez accepter les conditions d'utilisation pour créer votre compte."
            )
        return errors

    def sign_up(self, funder: Funder, form: SignupForm, client_ip: str | None) -> None:
        """Records the request and mails the address (whatever it already had: the answer is
        the same). Raises `RateLimited` past the client address's allowance of sign-ups,
        `Invalid` with the inputs to correct."""
        self._limiter.check("signup", client_ip, TOO_MANY_REQUESTS)
        errors = self.check_fields(form)
        if self._challenges.verify(form.captcha_id, Purpose.CAPTCHA, form.captcha_answer) is None:
            errors["captcha_answer"] = (
                "Le code recopié ne correspond pas. Recopiez le nouveau code ci-dessous."
            )
        if errors:
            raise Invalid(errors)
        birth_date = parse_date(form.birth_date.strip())
        email = normalise_typed_email(form.email)  # valid: checked above
        link: tuple[str, str] | None = None
        dossier: Dossier | None = None
        if not form.no_dossier:
            dossier = self._dossiers.get(funder.code, form.dossier_number.strip())
            typed_identity = identity_key(form.family_name, form.given_names, birth_date)
            if dossier is None or dossier.identity_key != typed_identity:
                raise Invalid({"dossier_number": NO_MATCHING_DOSSIER})
            # The typed identity proves nothing (docs/specs/security.md): the dossier comes with the
            # account only when the funder's courriel for it is the typed address. Linked now, at
            # sign-up, because that address is as good as confirmed: the account's only credential,
            # the temporary password, goes there, so whoever uses the account reads that mailbox. A
            # dossier held by another account is named all the same, so that the conditional write
            # refuses it (« Ce dossier a déjà un compte ») and its owner is told.
            if dossier.account_id is not None or proven_by_address(dossier, email):
                link = (funder.code, dossier.dossier_number)
        temporary_password = generate_temporary_password()
        # Hashed on every path: the answer takes the same time whether or not the address
        # already has an account.
        temporary_hash = self._hasher.hash(temporary_password)
        now = self._clock()
        account = Account(
            account_id=uuid.uuid4().hex,
            email=email,
            family_name=form.family_name.strip(),
            given_names=" ".join(form.given_names.split()),
            birth_date=birth_date,
            created_at=now,
            temporary_password_hash=temporary_hash,
            temporary_password_expires_at=now + TEMPORARY_PASSWORD_LIFETIME,
            # Without its proof, a named dossier is not linked: the account then waits, as one
            # « sans dossier », for a dossier with its address, or for « Ajouter un dossier ».
            awaiting_dossier=link is None,
        )
        outcome = self._accounts.create(account, link_dossier=link)
        if outcome is CreateOutcome.CREATED:
            self._audit.record(account.account_id, "signup", client_ip, {"funder": funder.code})
            mail = temporary_password_mail(
                to=email,
                given_name=account.first_given_name,
                temporary_password=temporary_password,
                login_url=self._urls.login(funder.code),
                dossier_pending=dossier is not None and link is None,
                portal_url=self._urls.base_url,
            )
        elif outcome is CreateOutcome.EMAIL_TAKEN:
            existing = self._accounts.find_by_email(email)
            if existing is not None:
                self._audit.record(existing.account_id, "signup-attempt", client_ip)
            mail = address_already_registered_mail(
                to=email,
                login_url=self._urls.login(funder.code),
                recovery_url=self._urls.recovery(funder.code),
                portal_url=self._urls.base_url,
            )
        else:
            # Refused on the dossier: withdrawn or purged since the read above (read again,
            # strongly consistent after the refused write), it gets the answer of a number that
            # matches no dossier, not « déjà un compte ».
            if dossier is None or (
                self._dossiers.get(funder.code, dossier.dossier_number, consistent=True) is None
            ):
                raise Invalid({"dossier_number": NO_MATCHING_DOSSIER})
            if dossier.account_id:
                self._audit.record(dossier.account_id, "signup-attempt", client_ip)
                self._owner_alert(dossier)
            mail = dossier_already_linked_mail(
                to=email,
                dossier_number=dossier.dossier_number,
                recovery_url=self._urls.recovery(funder.code),
                portal_url=self._urls.base_url,
            )
        try:
            self._mailer.send(mail)
        except MailNotSent:
            # Whatever happened above (an account created, an address or a dossier already
            # known), the same answer: the page tells no more than the mail would have. A new
            # account is not lost: « Mot de passe oublié » mails a never-used account a new
            # temporary password (recovery.py), once the address receives mail.
            raise Invalid({"email": MAIL_NOT_SENT}) from None
