"""FranceConnect login and sign-up: the account rules of docs/specs/franceconnect.md.

A FranceConnect identity is tied to one account by its `sub`. On first use the identity pivot
finds the person's dossiers: an account holding one must confirm the link with one password
login; a free dossier of this funder creates the account, already linked; no dossier, no account.
State, nonce, pending links and logout states are FRANCECONNECT challenges (64 hex, single use,
10 minutes), each bound to the browser by a secret that only its cookie holds.
"""

from __future__ import annotations

import hmac
import secrets
import uuid

from chalicelib.services.accounts.identity import is_plausible_email, normalise_email
from chalicelib.services.accounts.login import CREDENTIALS, Login
from chalicelib.services.accounts.model import Account, AuditLog, Clock, CreateOutcome, PortalUrls
from chalicelib.services.accounts.sessions import LoginMethod, Session, SignedIn
from chalicelib.services.errors import Expired, Invalid
from chalicelib.services.franceconnect.identity import (
    CallbackResult,
    FranceConnectError,
    FranceConnectIdentity,
    FranceConnectLinks,
    IdentityDossiers,
    IdentityProvider,
    LinkTicket,
    Outcome,
    PendingLink,
    Redirection,
    identity_from_claims,
)
from chalicelib.services.mail.mails import (
    Mailer,
    franceconnect_linked_mail,
    franceconnect_unlinked_mail,
)
from chalicelib.services.security.challenges import Challenges, Purpose, answer_hash
from chalicelib.services.security.throttling import TOO_MANY_ATTEMPTS, RateLimiter
from chalicelib.services.trainings.dossiers import Dossier

AUTHORIZE, LINK, LOGOUT = "authorize", "link", "logout"  # what a FRANCECONNECT challenge is for
MAX_IDENTITY_DOSSIERS = 20  # one person's dossiers: a bounded query, never a scan

LINK_EXPIRED = (
    "Le délai pour associer FranceConnect à votre compte est dépassé. Recommencez avec le "
    "bouton « S’identifier avec FranceConnect »."
)
NOT_THIS_ACCOUNT = (
    "Ce compte ne correspond pas à l’identité transmise par FranceConnect : il n’a pas été "
    "associé. Identifiez-vous avec le compte qui détient votre dossier."
)
ALREADY_LINKED = "Cette identité FranceConnect est déjà associée à un autre compte du portail."
PASSWORD_NEEDED = (
    "Pour ne plus utiliser FranceConnect, définissez d’abord un mot de passe : sans lui, vous ne "
    "pourriez plus vous connecter."
)


def link_expired() -> Expired:
    """The link to confirm is gone (its lifetime over, used, or another browser's)."""
    return Expired({CREDENTIALS: LINK_EXPIRED}, "link_expired")


class FranceConnectLogin:
    def __init__(
        self,
        provider: IdentityProvider | None,
        challenges: Challenges,
        login: Login,
        links: FranceConnectLinks,
        dossiers: IdentityDossiers,
        audit: AuditLog,
        mailer: Mailer,
        clock: Clock,
        urls: PortalUrls,
        limiter: RateLimiter,
    ) -> None:
        self._provider = provider  # None: FranceConnect is not configured for this stage
        self._challenges = challenges
        self._login = login
        self.accounts = login.accounts
        self._links = links
        self._dossiers = dossiers
        self._audit = audit
        self._mailer = mailer
        self._clock = clock
        self._urls = urls
        self._limiter = limiter

    @property
    def available(self) -> bool:
        return self._provider is not None

    def start(self, funder_code: str, client_ip: str | None) -> Redirection | None:
        """The way to the provider (None: not configured here). An identification like a
        password login: raises `RateLimited` past the address's allowance."""
        self._limiter.check("login", client_ip, TOO_MANY_ATTEMPTS)
        if self._provider is None:
            return None
        secret, nonce = secrets.token_hex(32), secrets.token_hex(32)
        data = {"step": AUTHORIZE, "funder": funder_code, "nonce": nonce}
        state = self._challenges.issue(Purpose.FRANCECONNECT, secret, data=data)
        return Redirection(self._provider.authorization_url(state, nonce), secret)

    def finish(
        self,
        state: str,
        code: str,
        error: str,
        browser_secret: str | None,
        client_ip: str | None,
    ) -> CallbackResult:
        """The callback: the state is used up whatever happens next."""
        challenge = self._use(state, browser_secret, AUTHORIZE)
        if challenge is None:
            return CallbackResult(Outcome.INVALID_STATE)
        funder_code = challenge["funder"]
        if error:
            cancelled = error == "access_denied"
            outcome = Outcome.CANCELLED if cancelled else Outcome.PROVIDER_ERROR
            return CallbackResult(outcome, funder_code, reason=f"error callback: {error[:50]}")
        if not code or self._provider is None:
            return CallbackResult(Outcome.FAILED, funder_code)
        try:
            login = self._provider.authenticate(code, challenge["nonce"])
            identity = identity_from_claims(login.claims)
        except FranceConnectError as failure:
            return CallbackResult(Outcome.FAILED, funder_code, reason=str(failure))
        return self._sign_in(identity, login.id_token, funder_code, client_ip)

    def _use(self, state: str, browser_secret: str | None, step: str) -> dict[str, str] | None:
        if not state or not browser_secret:
            return None
        challenge = self._challenges.verify(state, Purpose.FRANCECONNECT, browser_secret)
        if challenge is None or challenge.data.get("step") != step:
            return None
        return challenge.data

    def _sign_in(
        self, identity: FranceConnectIdentity, id_token: str, funder_code: str, ip: str | None
    ) -> CallbackResult:
        owner_id = self._links.owner(identity.sub)
        if owner_id is not None:
            account = self.accounts.get(owner_id)
            if account is not None and account.franceconnect_sub == identity.sub:
                # The State verified this identity: a dossier of it that the funder sent since
                # (with or without a courriel) is the person's (dossier_claims.py, proof 4).
                self._link_free_dossiers(identity, funder_code, account, ip)
                return self._signed_in(account, id_token, funder_code, ip)
            self._links.release(identity.sub, owner_id)  # left by an interrupted creation
        if identity.identity_key is None:
            # No dossier lacks a given name: only the person's own password can find the account.
            return self._pending(identity, id_token, funder_code, set())
        dossiers = self._dossiers.find_by_identity(identity.identity_key, MAX_IDENTITY_DOSSIERS)
        holders = {dossier.account_id for dossier in dossiers if dossier.account_id}
        if holders:
            return self._pending(identity, id_token, funder_code, holders)
        here = [dossier for dossier in dossiers if dossier.funder_code == funder_code]
        if not here:
            return CallbackResult(Outcome.NO_DOSSIER, funder_code)
        return self._create(identity, id_token, funder_code, here, ip)

    def _create(
        self,
        identity: FranceConnectIdentity,
        id_token: str,
        funder_code: str,
        dossiers: list[Dossier],
        ip: str | None,
    ) -> CallbackResult:
        email = identity.email or next(
            (
                normalise_email(d.email)
                for d in dossiers
                if d.email and is_plausible_email(normalise_email(d.email))
            ),
            None,
        )
        if email is None:
            return CallbackResult(Outcome.NO_EMAIL, funder_code)
        account = Account(
            account_id=uuid.uuid4().hex,
            email=email,
            family_name=identity.family_name,
            given_names=identity.given_names,
            birth_date=identity.birth_date,
            created_at=self._clock(),
            franceconnect_sub=identity.sub,
        )
        if not self._links.claim(identity.sub, account.account_id):
            return CallbackResult(Outcome.FAILED, funder_code)  # the same person, twice at once
        first, *others = dossiers
        outcome = self.accounts.create(account, link_dossier=(funder_code, first.dossier_number))
        if outcome is not CreateOutcome.CREATED:
            self._links.release(identity.sub, account.account_id)
            existing = self.accounts.find_by_email(email)
            if outcome is CreateOutcome.EMAIL_TAKEN and existing is not None:
                if existing.franceconnect_sub is None and identity.same_person(existing):
                    return self._pending(identity, id_token, funder_code, {existing.account_id})
                return CallbackResult(Outcome.EMAIL_IN_USE, funder_code)
            if outcome is CreateOutcome.DOSSIER_TAKEN and identity.identity_key is not None:
                # Linked meanwhile (a form sign-up at the same instant): answer as if this
                # login had come second — the holder's password confirms the link.
                found = self._dossiers.find_by_identity(
                    identity.identity_key, MAX_IDENTITY_DOSSIERS
                )
                holders = {dossier.account_id for dossier in found if dossier.account_id}
                if holders:
                    return self._pending(identity, id_token, funder_code, holders)
                if not any(dossier.funder_code == funder_code for dossier in found):
                    # Withdrawn or purged meanwhile: the answer of anyone without a dossier
                    # here. (The index lags a deletion: until it shows it, FAILED, try again.)
                    return CallbackResult(Outcome.NO_DOSSIER, funder_code)
            return CallbackResult(Outcome.FAILED, funder_code)
        for dossier in others:
            self._dossiers.link_account(funder_code, dossier.dossier_number, account.account_id)
        self._audit.record(
            account.account_id, "signup", ip, {"funder": funder_code, "method": "franceconnect"}
        )
        self._audit.record(account.account_id, "franceconnect-linked", ip)
        return self._signed_in(account, id_token, funder_code, ip)

    def _signed_in(
        self, account: Account, id_token: str, funder_code: str, ip: str | None
    ) -> CallbackResult:
        token, session = self._open(account, id_token)
        self._login.record_activity(account)
        self._audit.record(account.account_id, "login-success", ip, {"method": "franceconnect"})
        return CallbackResult(Outcome.SIGNED_IN, funder_code, token=token, session=session)

    def _open(self, account: Account, id_token: str) -> tuple[str, Session]:
        return self._login.sessions.open(
            account,
            LoginMethod.FRANCECONNECT,
            self._login.terms.current_version(),
            id_token=id_token,
        )

    # Linking an existing account: one password login -------------------------------------------

    def _pending(
        self,
        identity: FranceConnectIdentity,
        id_token: str,
        funder_code: str,
        candidates: set[str],
    ) -> CallbackResult:
        secret = secrets.token_hex(32)
        pending = PendingLink("", funder_code, identity, id_token, frozenset(candidates))
        link_id = self._challenges.issue(
            Purpose.FRANCECONNECT, secret, data={"step": LINK, **pending.to_data()}
        )
        return CallbackResult(Outcome.LINK_REQUIRED, funder_code, link=LinkTicket(link_id, secret))

    def pending_link(self, link_id: str, browser_secret: str | None) -> PendingLink | None:
        """The link awaiting a password login in this browser, without using it up."""
        challenge = self._challenges.peek(link_id, Purpose.FRANCECONNECT)
        if challenge is None or challenge.data.get("step") != LINK or not browser_secret:
            return None
        if not hmac.compare_digest(challenge.answer_hash, answer_hash(link_id, browser_secret)):
            return None
        return PendingLink.from_data(link_id, challenge.data)

    def confirm_link(
        self,
        link_id: str,
        browser_secret: str | None,
        username: str,
        password: str,
        client_ip: str | None,
    ) -> SignedIn:
        """The account, proven by its password, linked to the identity: its new FranceConnect
        session. Raises what the password login raises (`Invalid` for a wrong pair,
        `Throttled`, `RateLimited`), `Expired` when the link is no longer pending, `Invalid`
        under `credentials` when the account is not this identity's or the identity is another
        account's."""
        pending = self.pending_link(link_id, browser_secret)
        if pending is None:
            raise link_expired()
        # The normal password login: same rate limit and delays, one message for a wrong pair.
        result = self._login.log_in(username, password, client_ip)
        account = self.accounts.get(result.session.account_id)
        refused: Invalid | None = None
        if account is None or not pending.allows(account):
            refused = Invalid({CREDENTIALS: NOT_THIS_ACCOUNT}, "not_this_account")
        elif self._use(link_id, browser_secret, LINK) is None:
            refused = link_expired()
        elif not self._links.claim(pending.identity.sub, account.account_id):
            refused = Invalid({CREDENTIALS: ALREADY_LINKED}, "already_linked")
        if refused is not None or account is None:  # (account is None only with a refusal)
            self._login.log_out(result.token, result.session, client_ip)
            raise refused or link_expired()
        account = account.updated(franceconnect_sub=pending.identity.sub)
        self.accounts.save(account)
        self._link_free_dossiers(pending.identity, pending.funder_code, account, client_ip)
        self._audit.record(account.account_id, "franceconnect-linked", client_ip)
        self._mailer.send(
            franceconnect_linked_mail(
                account.email, account.first_given_name, portal_url=self._urls.base_url
            )
        )
        # From now on this is a FranceConnect session: logout ends the provider's session too.
        self._login.sessions.close(result.token)
        token, session = self._open(account, pending.id_token)
        return SignedIn(token, session)

    def _link_free_dossiers(
        self,
        identity: FranceConnectIdentity,
        funder_code: str,
        account: Account,
        ip: str | None,
    ) -> None:
        """The free dossiers of the verified identity at this funder; never one already linked
        (the write is conditional)."""
        key = identity.identity_key
        if key is None:
            return
        for dossier in self._dossiers.find_by_identity(key, MAX_IDENTITY_DOSSIERS):
            if (
                dossier.account_id is None
                and dossier.funder_code == funder_code
                and self._dossiers.link_account(
                    dossier.funder_code, dossier.dossier_number, account.account_id
                )
            ):
                if self._login.activations is not None:
                    self._login.activations.dossier_linked(
                        account, dossier.funder_code, dossier.dossier_number
                    )
                self._audit.record(
                    account.account_id,
                    "dossier-added",
                    ip,
                    {
                        "funder": funder_code,
                        "dossier": dossier.dossier_number,
                        "method": "franceconnect",
                    },
                )

    # "Mon compte" and logout ---------------------------------------------------------------------

    def unlink(self, account_id: str, client_ip: str | None) -> str | None:
        """Removes the link; a French message instead when the account has no password."""
        account = self.accounts.get(account_id)
        if account is None or account.franceconnect_sub is None:
            return None
        if account.password_hash is None:
            return PASSWORD_NEEDED
        self._links.release(account.franceconnect_sub, account_id)
        self.accounts.save(account.updated(franceconnect_sub=None))
        self._audit.record(account_id, "franceconnect-unlinked", client_ip)
        self._mailer.send(
            franceconnect_unlinked_mail(
                account.email, account.first_given_name, portal_url=self._urls.base_url
            )
        )
        return None

    def end_session(self, session: Session) -> Redirection | None:
        """The provider's logout for a FranceConnect session; None for any other session."""
        if (
            self._provider is None
            or session.method != LoginMethod.FRANCECONNECT
            or not session.id_token
        ):
            return None
        secret = secrets.token_hex(32)
        state = self._challenges.issue(Purpose.FRANCECONNECT, secret, data={"step": LOGOUT})
        return Redirection(self._provider.end_session_url(session.id_token, state), secret)

    def logout_returned(self, state: str, browser_secret: str | None) -> bool:
        """Whether the provider sent back the state this browser's logout sent."""
        return self._use(state, browser_secret, LOGOUT) is not None
