"""FranceConnect for the tests: a person at the fake provider's page (over real HTTP), and the
in-memory stores and provider that the service's unit tests hand in."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Mapping
from html import unescape
from urllib.parse import urlencode, urlsplit

from chalicelib.services.franceconnect.identity import FranceConnectError, ProviderLogin
from chalicelib.services.trainings.dossiers import Dossier
from tests.support.fakes import MemoryDossierLookup

FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def fetch(url: str, data: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """One HTTP request, redirects not followed: (status, headers, body)."""
    body = urlencode(data).encode() if data is not None else None
    try:
        with _opener.open(urllib.request.Request(url, data=body), timeout=5) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def choose_identity(authorization_url: str, identity: str | None) -> str:
    """What a person does at the provider: open the page, pick `identity` (None: « Annuler »).
    Returns where the provider sends the browser back (the portal's callback URL)."""
    status, _, page = fetch(authorization_url)
    assert status == 200, page
    action = unescape(FORM_ACTION.search(page).group(1))  # type: ignore[union-attr]
    parts = urlsplit(authorization_url)
    form = {"action": "annuler"} if identity is None else {"action": "continuer"}
    if identity is not None:
        form["identite"] = identity
    status, headers, body = fetch(f"{parts.scheme}://{parts.netloc}{action}", form)
    assert status == 302, body
    return headers["Location"]


def path_of(url: str) -> str:
    """The path and query of an absolute URL, for the Chalice test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


# In-memory stand-ins -------------------------------------------------------------------------


class MemoryFranceConnectLinks:
    def __init__(self) -> None:
        self.owners: dict[str, str] = {}
        self.calls: Counter[str] = Counter()

    def owner(self, sub: str) -> str | None:
        self.calls["owner"] += 1
        return self.owners.get(sub)

    def claim(self, sub: str, account_id: str) -> bool:
        self.calls["claim"] += 1
        if self.owners.get(sub, account_id) != account_id:
            return False
        self.owners[sub] = account_id
        return True

    def release(self, sub: str, account_id: str) -> None:
        self.calls["release"] += 1
        if self.owners.get(sub) == account_id:
            del self.owners[sub]


class MemoryIdentityDossiers:
    """The by-identity index over a MemoryDossierLookup (the accounts' fake links dossiers)."""

    def __init__(self, lookup: MemoryDossierLookup) -> None:
        self.lookup = lookup
        self.calls: Counter[str] = Counter()

    def find_by_identity(self, identity_key: str, limit: int) -> list[Dossier]:
        self.calls["find_by_identity"] += 1
        found = [d for d in self.lookup.items.values() if d.identity_key == identity_key]
        return found[:limit]

    def link_account(self, funder_code: str, dossier_number: str, account_id: str) -> bool:
        self.calls["link_account"] += 1
        dossier = self.lookup.items.get((funder_code, dossier_number))
        if dossier is None or dossier.account_id not in (None, account_id):
            return False
        self.lookup.link(funder_code, dossier_number, account_id)
        return True


class FakeIdentityProvider:
    """Gives back the claims a test sets, after checking the nonce it was started with."""

    def __init__(self) -> None:
        self.claims: dict[str, object] = {}
        self.failure: str | None = None
        self.nonces: dict[str, str] = {}  # state -> nonce
        self.ended: list[tuple[str, str]] = []  # (id_token, state)

    def authorization_url(self, state: str, nonce: str) -> str:
        self.nonces[state] = nonce
        return f"https://fc.example/authorize?state={state}&nonce={nonce}"

    def authenticate(self, code: str, nonce: str) -> ProviderLogin:
        if self.failure:
            raise FranceConnectError(self.failure)
        if nonce not in self.nonces.values():
            raise FranceConnectError("nonce")
        return ProviderLogin(id_token=f"id-token-for-{code}", claims=dict(self.claims))

    def end_session_url(self, id_token: str, state: str) -> str:
        self.ended.append((id_token, state))
        return f"https://fc.example/session/end?state={state}"
