"""FranceConnect's settings per stage: platform hosts, the secret's source, registered addresses,
and the origin the content security policy lets forms lead to."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from chalice import Response

from chalicelib.settings import Settings, SettingsError
from chalicelib.web.security_headers import security_headers

BASE = {
    "STAGE": "prod",
    "AWS_REGION": "eu-west-3",
    "TABLE_PREFIX": "portail-stagiaire-prod",
    "EXCHANGE_BUCKET": "exchange",
    "DOCUMENTS_BUCKET": "documents",
    "FUNDER_FILES_QUEUE": "funder-files",
    "NOTIFICATIONS_QUEUE": "notifications",
    "SECURITY_MAILS_QUEUE": "security-mails",
    "MAIL_EVENTS_QUEUE": "mail-events",
    "MAIL_SENDER": "ne-pas-repondre@portail-stagiaire.example.gouv.fr",
    "PUBLIC_BASE_URL": "https://portail-stagiaire.example.gouv.fr",
}


def settings(**environment: str) -> Settings:
    return Settings.from_environment({**BASE, **environment})


@pytest.mark.parametrize(
    ("platform", "url"),
    [
        ("sandbox", "https://fcp-low.sbx.dev-franceconnect.fr"),
        ("integration", "https://fcp-low.integ01.dev-franceconnect.fr"),
        ("production", "https://oidc.franceconnect.gouv.fr"),
    ],
)
def test_each_platform_has_its_host(platform, url):
    chosen = settings(
        FRANCECONNECT_PLATFORM=platform,
        FRANCECONNECT_CLIENT_ID="client",
        FRANCECONNECT_SECRET_NAME="portail-stagiaire/prod/franceconnect-client-secret",
    )
    assert chosen.franceconnect_url == url
    assert chosen.franceconnect_configured
    assert chosen.franceconnect_origins == (url,)


def test_the_registered_addresses_come_from_the_public_base_url():
    chosen = settings()
    base = "https://portail-stagiaire.example.gouv.fr"
    assert chosen.franceconnect_redirect_uri == f"{base}/franceconnect/retour"
    assert chosen.franceconnect_post_logout_redirect_uri == f"{base}/franceconnect/deconnecte"
    assert not chosen.franceconnect_configured and chosen.franceconnect_origins == ()


def test_the_secret_comes_from_the_environment_only_in_local_and_test():
    with pytest.raises(SettingsError, match="FRANCECONNECT_CLIENT_SECRET is only allowed"):
        settings(FRANCECONNECT_CLIENT_SECRET="s3cret")
    local = settings(
        STAGE="local",
        PUBLIC_BASE_URL="http://localhost:8000",
        FRANCECONNECT_BASE_URL="http://127.0.0.1:4567/",
        FRANCECONNECT_CLIENT_ID="portail-stagiaire-local",
        FRANCECONNECT_CLIENT_SECRET="s3cret",
    )
    assert local.franceconnect_url == "http://127.0.0.1:4567"
    assert local.franceconnect_configured


def test_wrong_franceconnect_settings_are_named():
    with pytest.raises(SettingsError) as refused:
        settings(FRANCECONNECT_PLATFORM="recette", FRANCECONNECT_BASE_URL="http://fc.example")
    assert "FRANCECONNECT_PLATFORM must be one of sandbox, integration, production" in str(
        refused.value
    )
    assert "FRANCECONNECT_BASE_URL must start with https://" in str(refused.value)


def test_forms_may_lead_to_franceconnect_and_nowhere_else():
    middleware = security_headers(hsts=True, form_targets=("https://oidc.franceconnect.gouv.fr",))
    request = SimpleNamespace(path="/region-idf/")
    response = middleware(request, lambda _: Response(body=""))  # type: ignore[arg-type]
    policy = response.headers["Content-Security-Policy"]
    assert policy.endswith("form-action 'self' https://oidc.franceconnect.gouv.fr")
    assert "default-src 'self'" in policy
