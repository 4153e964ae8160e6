"""Our OIDC client against the fake FranceConnect provider over real HTTP, under every failure.

No AWS here: the provider runs in this process on a free port.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from chalicelib.adapters.franceconnect import ClientSettings, FranceConnectClient
from chalicelib.services.franceconnect.identity import FranceConnectError, ProviderLogin
from local.fake_franceconnect import (
    LOCAL_CLIENT_ID,
    LOCAL_CLIENT_SECRET,
    FakeFranceConnect,
    Fault,
    portal_client,
)
from tests.support.franceconnect import choose_identity, fetch

PORTAL = "http://localhost:8000"
SCOPES = "openid given_name family_name birthdate gender birthplace birthcountry email"


class Clock:
    """The provider's clock, which a test can move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture(scope="module")
def provider_clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def fake(provider_clock: Clock) -> Iterator[FakeFranceConnect]:
    with FakeFranceConnect([portal_client(PORTAL)], clock=provider_clock) as running:
        yield running


@pytest.fixture
def client(fake: FakeFranceConnect, provider_clock: Clock) -> Iterator[FranceConnectClient]:
    provider_clock.offset = 0
    yield make_client(fake.url)
    fake.clear_faults()  # a test that failed early leaves no fault behind


def make_client(
    base_url: str, secret: str | Callable[[], str] = LOCAL_CLIENT_SECRET
) -> FranceConnectClient:
    return FranceConnectClient(
        ClientSettings(
            base_url=base_url,
            client_id=LOCAL_CLIENT_ID,
            redirect_uri=f"{PORTAL}/franceconnect/retour",
            post_logout_redirect_uri=f"{PORTAL}/franceconnect/deconnecte",
        ),
        client_secret=secret if callable(secret) else lambda: secret,
    )


def authorize(client: FranceConnectClient, identity: str | None = "angela") -> dict[str, str]:
    """The callback's query after a person picks `identity` (None: « Annuler »)."""
    state, nonce = secrets.token_hex(32), secrets.token_hex(32)
    callback = choose_identity(client.authorization_url(state, nonce), identity)
    assert callback.startswith(f"{PORTAL}/franceconnect/retour?")
    query = {key: values[0] for key, values in parse_qs(urlsplit(callback).query).items()}
    assert query["state"] == state
    return {**query, "nonce": nonce}


def log_in(client: FranceConnectClient, identity: str = "angela") -> ProviderLogin:
    callback = authorize(client, identity)
    return client.authenticate(callback["code"], callback["nonce"])


def test_the_authorization_url_carries_every_parameter_franceconnect_requires(client, fake):
    state, nonce = secrets.token_hex(32), secrets.token_hex(32)
    url = client.authorization_url(state, nonce)
    assert url.startswith(f"{fake.url}/api/v2/authorize?")
    query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    assert query == {
        "response_type": "code",
        "client_id": LOCAL_CLIENT_ID,
        "redirect_uri": f"{PORTAL}/franceconnect/retour",
        "scope": SCOPES,
        "state": state,
        "nonce": nonce,
        "acr_values": "eidas1",
    }


def test_angela_dubois_logs_in_with_a_verified_id_token_and_signed_userinfo(client, fake):
    login = log_in(client)
    claims = login.claims
    assert re.fullmatch(r"[0-9a-f]{64}v1", str(claims["sub"]))
    assert claims["given_name"] == "Angela Claire Louise"
    assert claims["family_name"] == "DUBOIS"
    assert claims["birthdate"] == "1962-08-24"
    assert (claims["gender"], claims["birthplace"], claims["birthcountry"]) == (
        "female",
        "75107",
        "99100",
    )
    assert claims["email"] == "angela.dubois@example.fr"
    id_claims = client.verify_id_token(login.id_token, nonce=_nonce_of(login.id_token))
    assert id_claims["acr"] == "eidas1" and id_claims["sub"] == claims["sub"]


def _nonce_of(id_token: str) -> str:
    import base64
    import json

    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["nonce"]


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        (Fault.BAD_SIGNATURE, "id_token: signature does not verify"),
        (Fault.WRONG_NONCE, "nonce"),
        (Fault.WRONG_AUDIENCE, "aud"),
        (Fault.EXPIRED, "expired"),
        (Fault.WRONG_ACR, "acr"),
        (Fault.WRONG_ISSUER, "iss"),
        (Fault.USERINFO_BAD_SIGNATURE, "userinfo: signature does not verify"),
        (Fault.USERINFO_WRONG_SUBJECT, "userinfo: sub differs"),
    ],
)
def test_a_faulty_token_is_refused(client, fake, fault, cause):
    fake.inject(fault)
    with pytest.raises(FranceConnectError, match=cause):
        log_in(client)


def test_a_nonce_other_than_the_one_sent_is_refused(client):
    callback = authorize(client)
    with pytest.raises(FranceConnectError, match="nonce"):
        client.authenticate(callback["code"], secrets.token_hex(32))


def test_an_unknown_key_id_refetches_the_rotated_jwks_once(client, fake):
    log_in(client)
    fetched = fake.provider.jwks_requests
    fake.rotate_key()
    login = log_in(client, "corse")
    assert login.claims["birthplace"] == "2A004"
    assert fake.provider.jwks_requests == fetched + 1
    log_in(client)  # the new key is known now: no further fetch
    assert fake.provider.jwks_requests == fetched + 1


def test_cancel_comes_back_as_access_denied(client):
    callback = authorize(client, identity=None)
    assert callback["error"] == "access_denied"
    assert "code" not in callback


def test_a_code_is_single_use(client):
    callback = authorize(client)
    client.authenticate(callback["code"], callback["nonce"])
    with pytest.raises(FranceConnectError, match="invalid_grant"):
        client.authenticate(callback["code"], callback["nonce"])


def test_a_code_expires_after_30_seconds(client, provider_clock):
    callback = authorize(client)
    provider_clock.offset = 31
    with pytest.raises(FranceConnectError, match="invalid_grant"):
        client.authenticate(callback["code"], callback["nonce"])


def test_a_wrong_client_secret_is_refused(fake):
    client = make_client(fake.url, secret="pas-le-bon-secret")
    callback = authorize(client)
    with pytest.raises(FranceConnectError, match="HTTP 401 invalid_client"):
        client.authenticate(callback["code"], callback["nonce"])


def test_userinfo_in_plain_json_is_not_trusted(client, monkeypatch):
    callback = authorize(client)
    real_call = client._call

    def json_userinfo(what, url, data=None, headers=None):
        if what == "userinfo":
            return 200, "application/json", b'{"sub": "x"}'
        return real_call(what, url, data, headers)

    monkeypatch.setattr(client, "_call", json_userinfo)
    with pytest.raises(FranceConnectError, match="instead of a signed JWT"):
        client.authenticate(callback["code"], callback["nonce"])


def test_discovery_from_another_issuer_is_refused(fake):
    # Same server, another name: the issuer it announces is not the one we were told to trust.
    client = make_client(fake.url.replace("127.0.0.1", "localhost"))
    with pytest.raises(FranceConnectError, match="unexpected issuer"):
        client.metadata()


def test_an_unreachable_provider_is_a_clear_error():
    with pytest.raises(FranceConnectError, match="unreachable"):
        make_client("http://127.0.0.1:9").metadata()


def test_logout_goes_through_session_end_and_comes_back_with_the_state(client, fake):
    login = log_in(client)
    state = secrets.token_hex(32)
    url = client.end_session_url(login.id_token, state)
    query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    assert query == {
        "id_token_hint": login.id_token,
        "state": state,
        "post_logout_redirect_uri": f"{PORTAL}/franceconnect/deconnecte",
    }
    status, headers, _ = fetch(url)
    assert status == 302
    assert headers["Location"] == f"{PORTAL}/franceconnect/deconnecte?state={state}"
    assert fake.provider.ended_sessions[-1] == login.claims["sub"]


# The provider enforces FranceConnect's rules ------------------------------------------------


def authorize_query(**changes: str | None) -> str:
    query = {
        "response_type": "code",
        "client_id": LOCAL_CLIENT_ID,
        "redirect_uri": f"{PORTAL}/franceconnect/retour",
        "scope": SCOPES,
        "state": secrets.token_hex(32),
        "nonce": secrets.token_hex(32),
        "acr_values": "eidas1",
        **changes,
    }
    return urlencode({key: value for key, value in query.items() if value is not None})


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"nonce": "a" * 21}, "« nonce » doit faire au moins 22 caractères"),
        ({"nonce": None}, "Le paramètre « nonce » est obligatoire"),
        ({"acr_values": None}, "Le paramètre « acr_values » est obligatoire"),
        ({"acr_values": "eidas3"}, "« acr_values » doit valoir « eidas1 »"),
        ({"state": None}, "Le paramètre « state » est obligatoire"),
        ({"scope": "given_name"}, "La portée « openid » est obligatoire"),
        ({"redirect_uri": "https://ailleurs.example/retour"}, "n’est pas déclarée"),
        ({"client_id": "inconnu"}, "« inconnu » est inconnu"),
        ({"response_type": "token"}, "« response_type » doit valoir « code »"),
    ],
)
def test_the_provider_refuses_what_franceconnect_refuses(fake, changes, problem):
    status, _, page = fetch(f"{fake.url}/api/v2/authorize?{authorize_query(**changes)}")
    assert status == 400
    assert problem in page
    assert '<html lang="fr">' in page


def test_the_provider_refuses_a_logout_without_its_parameters(fake):
    status, _, page = fetch(f"{fake.url}/api/v2/session/end?state=abc")
    assert status == 400
    assert "« id_token_hint » est obligatoire" in page
    assert "« post_logout_redirect_uri » est obligatoire" in page


def test_a_rotated_secret_is_read_again_once_and_the_login_goes_on(fake):
    # The container read the old secret; the operators then put the new one in Secrets Manager.
    stored = ["pas-le-bon-secret"]
    reads: list[str] = []

    def secrets_manager() -> str:
        reads.append(stored[0])
        return stored[0]

    client = make_client(fake.url, secrets_manager)
    with pytest.raises(FranceConnectError, match="HTTP 401 invalid_client"):
        log_in(client)  # read once, refused: a wrong secret is not read again in a loop
    stored[0] = LOCAL_CLIENT_SECRET  # the rotation
    assert log_in(client).claims["given_name"] == "Angela Claire Louise"
    assert reads == ["pas-le-bon-secret", LOCAL_CLIENT_SECRET]
