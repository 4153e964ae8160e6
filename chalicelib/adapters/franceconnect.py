"""Our OpenID Connect client of FranceConnect v2 (docs/specs/architecture.md, D1): endpoints and
keys from discovery, the authorisation URL, the code exchange (client_secret_post), the id_token and
the signed userinfo verified, the logout URL. urllib and joserfc only, imported only by the code
that logs in (docs/specs/architecture.md, D8).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key

from chalicelib.services.franceconnect.identity import FranceConnectError, ProviderLogin

DISCOVERY_PATH = "/api/v2/.well-known/openid-configuration"
SCOPES = "openid given_name family_name birthdate gender birthplace birthcountry email"
ACR = "eidas1"
ALGORITHMS = ("ES256", "RS256")
ENDPOINTS = (
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "end_session_endpoint",
    "jwks_uri",
)
TIMEOUT_SECONDS = 5
CACHE_SECONDS = 3600  # discovery and keys; an unknown key id refetches the keys at once
LEEWAY_SECONDS = 10  # clock skew; tokens live 60 seconds
MAX_ANSWER_BYTES = 256 * 1024


@dataclass(frozen=True)
class ClientSettings:
    base_url: str  # e.g. https://oidc.franceconnect.gouv.fr, or the fake provider locally
    client_id: str
    redirect_uri: str
    post_logout_redirect_uri: str


class FranceConnectClient:
    def __init__(
        self,
        settings: ClientSettings,
        client_secret: Callable[[], str],
        clock: Callable[[], float] = time.time,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._settings = settings
        self._client_secret = client_secret
        self._secret: str | None = None
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()
        self._metadata: tuple[float, dict[str, str]] | None = None
        self._keys: tuple[float, dict[str, Key]] | None = None

    @property
    def issuer(self) -> str:
        return self._settings.base_url.rstrip("/") + "/api/v2"

    # Discovery and keys ------------------------------------------------------------------------

    def metadata(self) -> dict[str, str]:
        with self._lock:
            cached = self._metadata
        if cached is not None and self._clock() - cached[0] < CACHE_SECONDS:
            return cached[1]
        document = self._json("discovery", self._settings.base_url.rstrip("/") + DISCOVERY_PATH)
        if document.get("issuer") != self.issuer:
            raise FranceConnectError("discovery: unexpected issuer")
        metadata = {"issuer": self.issuer}
        for name in ENDPOINTS:
            value = document.get(name)
            # Endpoints must stay on the provider we trust: never follow discovery elsewhere.
            if not isinstance(value, str) or not value.startswith(self.issuer + "/"):
                raise FranceConnectError(f"discovery: {name} missing or elsewhere")
            metadata[name] = value
        with self._lock:
            self._metadata = (self._clock(), metadata)
        return metadata

    def _key(self, kid: str) -> Key:
        with self._lock:
            cached = self._keys
        fresh = cached is not None and self._clock() - cached[0] < CACHE_SECONDS
        if cached is None or not fresh or kid not in cached[1]:
            # An unknown key id means the provider rotated its keys: fetch them again, once.
            cached = (self._clock(), self._fetch_keys())
            with self._lock:
                self._keys = cached
        key = cached[1].get(kid)
        if key is None:
            raise FranceConnectError("unknown signing key id, even after refetching the JWKS")
        return key

    def _fetch_keys(self) -> dict[str, Key]:
        document = self._json("jwks", self.metadata()["jwks_uri"])
        keys: dict[str, Key] = {}
        for entry in document.get("keys") or []:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                key = JWKRegistry.import_key(entry)
            except (JoseError, ValueError):
                continue  # one key we cannot read must not hide the others
            if key.kid:
                keys[str(key.kid)] = key
        return keys

    # The flow ------------------------------------------------------------------------------------

    def authorization_url(self, state: str, nonce: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self._settings.client_id,
            "redirect_uri": self._settings.redirect_uri,
            "scope": SCOPES,
            "state": state,
            "nonce": nonce,
            "acr_values": ACR,
        }
        return f"{self.metadata()['authorization_endpoint']}?{urlencode(query)}"

    def authenticate(self, code: str, nonce: str) -> ProviderLogin:
        """Code → tokens → userinfo, straight away: the code lives 30 s, the tokens 60 s."""
        tokens = self._exchange(code)
        id_token, access_token = tokens.get("id_token"), tokens.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise FranceConnectError("token: no id_token or access_token")
        id_claims = self.verify_id_token(id_token, nonce)
        claims = self._userinfo(access_token)
        if claims.get("sub") != id_claims["sub"]:
            raise FranceConnectError("userinfo: sub differs from the id_token's")
        return ProviderLogin(id_token=id_token, claims=claims)

    def _exchange(self, code: str) -> dict[str, Any]:
        secret_was_cached = self._secret is not None
        status, body = self._post_token(code)
        if status == 401 and secret_was_cached:
            # The operators rotated the secret since this container read it: read it again, once.
            # FranceConnect refuses the client before it looks at the code, which stays valid.
            self._secret = None
            status, body = self._post_token(code)
        if status != 200:
            raise FranceConnectError(f"token: HTTP {status} {_oauth_error(body)}")
        return _parse_json("token", body)

    def _post_token(self, code: str) -> tuple[int, bytes]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self._settings.redirect_uri,
            "client_id": self._settings.client_id,
            "client_secret": self._secret_value(),
        }
        status, _, body = self._call(
            "token",
            self.metadata()["token_endpoint"],
            data=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return status, body

    def _secret_value(self) -> str:
        if self._secret is None:  # from Secrets Manager in AWS: fetched once per container
            self._secret = self._client_secret()
        return self._secret

    def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        claims = self._verified_claims("id_token", id_token)
        registry = jwt.JWTClaimsRegistry(
            now=int(self._clock()),
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self._settings.client_id},
            exp={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
            acr={"essential": True, "value": ACR},
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            raise FranceConnectError(f"id_token: {error.error} {error.description}") from error
        return claims

    def _userinfo(self, access_token: str) -> dict[str, Any]:
        status, content_type, body = self._call(
            "userinfo",
            self.metadata()["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/jwt"},
        )
        if status != 200:
            raise FranceConnectError(f"userinfo: HTTP {status}")
        if content_type != "application/jwt":  # FranceConnect v2 signs it: never trust plain JSON
            raise FranceConnectError(f"userinfo: {content_type} instead of a signed JWT")
        claims = self._verified_claims("userinfo", body.decode("ascii", "replace").strip())
        registry = jwt.JWTClaimsRegistry(
            now=int(self._clock()),
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self._settings.client_id},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            raise FranceConnectError(f"userinfo: {error.error} {error.description}") from error
        return claims

    def _verified_claims(self, what: str, token: str) -> dict[str, Any]:
        """The claims of a JWS signed by one of the provider's keys, with an expected algorithm."""
        try:
            header = jws.extract_compact(token.encode()).headers()
        except (JoseError, ValueError) as error:
            raise FranceConnectError(f"{what}: not a compact JWS") from error
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ALGORITHMS:
            raise FranceConnectError(f"{what}: algorithm {algorithm!r} refused")
        if not isinstance(kid, str) or not kid:
            raise FranceConnectError(f"{what}: no key id")
        try:
            return dict(jwt.decode(token, self._key(kid), algorithms=[algorithm]).claims)
        except (JoseError, ValueError) as error:
            raise FranceConnectError(f"{what}: signature does not verify") from error

    def end_session_url(self, id_token: str, state: str) -> str:
        query = {
            "id_token_hint": id_token,
            "state": state,
            "post_logout_redirect_uri": self._settings.post_logout_redirect_uri,
        }
        return f"{self.metadata()['end_session_endpoint']}?{urlencode(query)}"

    # HTTP ------------------------------------------------------------------------------------

    def _json(self, what: str, url: str) -> dict[str, Any]:
        status, _, body = self._call(what, url, headers={"Accept": "application/json"})
        if status != 200:
            raise FranceConnectError(f"{what}: HTTP {status}")
        return _parse_json(what, body)

    def _call(
        self,
        what: str,
        url: str,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, str, bytes]:
        request = urllib.request.Request(
            url,
            data=data,
            headers={"User-Agent": "portail-stagiaire", **(headers or {})},
            method="POST" if data is not None else "GET",
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                content_type = response.headers.get_content_type()
                return response.status, content_type, response.read(MAX_ANSWER_BYTES)
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get_content_type(), error.read(MAX_ANSWER_BYTES)
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise FranceConnectError(f"{what}: unreachable ({type(error).__name__})") from error


def _parse_json(what: str, body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError as error:
        raise FranceConnectError(f"{what}: not JSON") from error
    if not isinstance(document, dict):
        raise FranceConnectError(f"{what}: not a JSON object")
    return document


def _oauth_error(body: bytes) -> str:
    """The OAuth error code of a refusal (e.g. invalid_grant), for the logs."""
    try:
        error = json.loads(body).get("error", "")
    except (ValueError, AttributeError):
        return ""
    return str(error)[:50]
