"""The portal as a service provider registered with the fake provider (local stack and tests)."""

from __future__ import annotations

from chalicelib.settings import FRANCECONNECT_CALLBACK_PATH, FRANCECONNECT_LOGOUT_RETURN_PATH
from local.fake_franceconnect.rules import RegisteredClient

LOCAL_CLIENT_ID = "portail-stagiaire-local"
# Not a secret: the fake provider only runs on this machine (FRANCECONNECT_CLIENT_SECRET is
# refused outside the local and test stages).
LOCAL_CLIENT_SECRET = "secret-client-du-fournisseur-de-test"


def portal_client(public_base_url: str) -> RegisteredClient:
    """The portal at this address, with its callback and logout return registered."""
    base = public_base_url.rstrip("/")
    return RegisteredClient(
        client_id=LOCAL_CLIENT_ID,
        client_secret=LOCAL_CLIENT_SECRET,
        redirect_uris=(f"{base}{FRANCECONNECT_CALLBACK_PATH}",),
        post_logout_redirect_uris=(f"{base}{FRANCECONNECT_LOGOUT_RETURN_PATH}",),
    )
