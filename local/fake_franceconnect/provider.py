"""What the fake FranceConnect v2 provider does, apart from HTTP: registered clients, the
authorisation interaction, single-use codes, ES256-signed tokens and userinfo, key rotation,
and faulty tokens on demand for the tests (`inject`)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from local.fake_franceconnect.identities import IDENTITIES, TestIdentity
from local.fake_franceconnect.rules import (
    ACR,
    CODE_LIFETIME,
    INTERACTION_LIFETIME,
    SCOPES,
    TOKEN_LIFETIME,
    Fault,
    Grant,
    Interaction,
    ProviderError,
    RegisteredClient,
    authorization_problems,
)


def new_key() -> ECKey:
    return ECKey.generate_key("P-256", {"use": "sig", "alg": "ES256"}, auto_kid=True)


class FakeProvider:
    def __init__(
        self,
        clients: list[RegisteredClient],
        identities: tuple[TestIdentity, ...] = IDENTITIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = ""  # set by the server once it knows its address
        self.clients = {client.client_id: client for client in clients}
        self.identities = {identity.key: identity for identity in identities}
        self._clock = clock
        self._keys = [new_key()]
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._interactions: dict[str, Interaction] = {}
        self._codes: dict[str, Grant] = {}
        self._access_tokens: dict[str, Grant] = {}
        self.jwks_requests = 0
        self.ended_sessions: list[str] = []  # the `sub` of every id_token_hint accepted

    # Test hooks ------------------------------------------------------------------------------

    def rotate_key(self) -> str:
        """A new signing key; the JWKS keeps the previous one too, as real rotations do."""
        with self._lock:
            self._keys.insert(0, new_key())
            return str(self._keys[0].kid)

    def inject(self, *faults: Fault) -> None:
        """The next tokens will carry these defects (each is used once)."""
        with self._lock:
            self._faults.extend(faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take(self, fault: Fault) -> bool:
        with self._lock:
            if fault in self._faults:
                self._faults.remove(fault)
                return True
            return False

    # Discovery and keys ------------------------------------------------------------------------

    def discovery(self) -> dict[str, object]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "end_session_endpoint": f"{self.issuer}/session/end",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "scopes_supported": sorted(SCOPES),
            "acr_values_supported": [ACR],
            "claims_supported": [*sorted(SCOPES - {"openid", "identite_pivot"}), "sub"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "userinfo_signing_alg_values_supported": ["ES256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        }

    def jwks(self) -> dict[str, object]:
        with self._lock:
            self.jwks_requests += 1
            return {"keys": [key.as_dict(private=False) for key in self._keys]}

    # Authorisation -----------------------------------------------------------------------------

    def begin_authorization(self, params: Mapping[str, str]) -> str:
        """Checks the request like FranceConnect does; the id of the page that picks a person."""
        problems = authorization_problems(params, self.clients)
        if problems:
            raise ProviderError(400, "invalid_request", problems)
        nonce, redirect_uri = params["nonce"], params["redirect_uri"]
        scopes = frozenset(params["scope"].split())
        interaction_id = secrets.token_urlsafe(16)
        with self._lock:
            self._interactions[interaction_id] = Interaction(
                client_id=params["client_id"],
                redirect_uri=redirect_uri,
                state=params["state"],
                nonce=nonce,
                scopes=scopes,
                expires_at=self._clock() + INTERACTION_LIFETIME,
            )
        return interaction_id

    def interaction(self, interaction_id: str) -> Interaction | None:
        with self._lock:
            found = self._interactions.get(interaction_id)
        return found if found and found.expires_at > self._clock() else None

    def conclude(self, interaction_id: str, identity_key: str | None) -> str:
        """Where the browser goes back to: a code for the chosen person, or access_denied."""
        with self._lock:
            found = self._interactions.pop(interaction_id, None)
        if found is None or found.expires_at <= self._clock():
            raise ProviderError(400, "invalid_request", ["Cette demande a expiré. Recommencez."])
        if identity_key is None:
            query = {
                "error": "access_denied",
                "error_description": "La personne a annulé la connexion.",
                "state": found.state,
            }
            return f"{found.redirect_uri}?{urlencode(query)}"
        identity = self.identities[identity_key]
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = Grant(
                client_id=found.client_id,
                redirect_uri=found.redirect_uri,
                identity=identity,
                nonce=found.nonce,
                scopes=found.scopes,
                expires_at=self._clock() + CODE_LIFETIME,
            )
        return f"{found.redirect_uri}?{urlencode({'code': code, 'state': found.state})}"

    # Token, userinfo, logout -------------------------------------------------------------------

    def subject(self, client_id: str, identity: TestIdentity) -> str:
        """Like FranceConnect's, specific to each service (pairwise): 64 hex digits and "v1"."""
        return hashlib.sha256(f"{client_id}:{identity.key}".encode()).hexdigest() + "v1"

    def exchange(self, form: Mapping[str, str]) -> dict[str, object]:
        if form.get("grant_type") != "authorization_code":
            raise ProviderError(400, "unsupported_grant_type", ["grant_type inattendu."])
        client = self.clients.get(form.get("client_id", ""))
        if client is None or not secrets.compare_digest(
            client.client_secret, form.get("client_secret", "")
        ):
            raise ProviderError(401, "invalid_client", ["Client ou secret client incorrect."])
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # single use, even if refused
        if (
            grant is None
            or grant.expires_at <= self._clock()
            or grant.client_id != client.client_id
        ):
            raise ProviderError(400, "invalid_grant", ["Code inconnu, déjà utilisé ou expiré."])
        if form.get("redirect_uri") != grant.redirect_uri:
            raise ProviderError(
                400, "invalid_grant", ["redirect_uri différente de l’autorisation."]
            )
        access_token = secrets.token_urlsafe(32)
        with self._lock:
            self._access_tokens[access_token] = Grant(
                **{**grant.__dict__, "expires_at": self._clock() + TOKEN_LIFETIME}
            )
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "id_token": self._id_token(grant),
            "scope": " ".join(sorted(grant.scopes)),
        }

    def _id_token(self, grant: Grant) -> str:
        now = int(self._clock())
        if self._take(Fault.EXPIRED):  # issued two minutes ago: a minute past its end
            now -= 2 * TOKEN_LIFETIME
        claims: dict[str, object] = {
            "iss": (
                "https://autre-fournisseur.example/api/v2"
                if self._take(Fault.WRONG_ISSUER)
                else self.issuer
            ),
            "sub": self.subject(grant.client_id, grant.identity),
            "aud": "un-autre-service" if self._take(Fault.WRONG_AUDIENCE) else grant.client_id,
            "iat": now,
            "exp": now + TOKEN_LIFETIME,
            "auth_time": now,
            "nonce": secrets.token_hex(32) if self._take(Fault.WRONG_NONCE) else grant.nonce,
            "acr": "eidas2" if self._take(Fault.WRONG_ACR) else ACR,
            "amr": ["pwd"],
        }
        return self._sign(claims, forged=self._take(Fault.BAD_SIGNATURE))

    def userinfo(self, authorization: str) -> str:
        scheme, _, token = authorization.partition(" ")
        with self._lock:
            grant = self._access_tokens.get(token) if scheme == "Bearer" else None
        if grant is None or grant.expires_at <= self._clock():
            raise ProviderError(401, "invalid_token", ["Jeton d’accès inconnu ou expiré."])
        sub = self.subject(grant.client_id, grant.identity)
        if self._take(Fault.USERINFO_WRONG_SUBJECT):
            sub = self.subject(grant.client_id, self.identities["corse"])
        claims: dict[str, object] = {
            "iss": self.issuer,
            "aud": grant.client_id,
            "sub": sub,
            "iat": int(self._clock()),
            **grant.identity.claims(set(grant.scopes)),
        }
        return self._sign(claims, forged=self._take(Fault.USERINFO_BAD_SIGNATURE))

    def _sign(self, claims: dict[str, object], forged: bool) -> str:
        with self._lock:
            key = self._keys[0]
        signing_key = new_key() if forged else key  # a forgery reuses the real key's id
        header = {"alg": "ES256", "kid": str(key.kid)}
        return jwt.encode(header, claims, signing_key, algorithms=["ES256"])

    def end_session(self, params: Mapping[str, str]) -> str:
        """Checks the logout request; where the browser goes back to, with the same state."""
        problems = [
            f"Le paramètre « {name} » est obligatoire."
            for name in ("id_token_hint", "state", "post_logout_redirect_uri")
            if not params.get(name)
        ]
        claims = self._own_token_claims(params.get("id_token_hint", ""))
        if params.get("id_token_hint") and claims is None:
            problems.append("Le paramètre « id_token_hint » n’est pas un jeton de ce fournisseur.")
        client = self.clients.get(str(claims.get("aud", ""))) if claims else None
        target = params.get("post_logout_redirect_uri", "")
        if client and target and target not in client.post_logout_redirect_uris:
            problems.append(f"L’adresse de retour « {target} » n’est pas déclarée pour ce service.")
        if problems:
            raise ProviderError(400, "invalid_request", problems)
        assert claims is not None
        with self._lock:
            self.ended_sessions.append(str(claims.get("sub")))
        return f"{target}?{urlencode({'state': params['state']})}"

    def _own_token_claims(self, token: str) -> dict[str, object] | None:
        """The claims of a token we signed; an expired id_token is still a valid hint."""
        with self._lock:
            keys = list(self._keys)
        for key in keys:
            try:
                return dict(jwt.decode(token, key, algorithms=["ES256"]).claims)
            except (JoseError, ValueError):
                continue
        return None
