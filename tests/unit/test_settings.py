"""Settings are validated at start, with an error naming every faulty variable."""

from __future__ import annotations

import pytest

from chalicelib.settings import Settings, SettingsError

VALID = {
    "STAGE": "dev",
    "AWS_REGION": "eu-west-3",
    "TABLE_PREFIX": "portail-stagiaire-dev",
    "EXCHANGE_BUCKET": "exchange",
    "DOCUMENTS_BUCKET": "documents",
    "FUNDER_FILES_QUEUE": "funder-files",
    "NOTIFICATIONS_QUEUE": "notifications",
    "SECURITY_MAILS_QUEUE": "security-mails",
    "MAIL_EVENTS_QUEUE": "mail-events",
    "MAIL_SENDER": "ne-pas-repondre@portail.example.gouv.fr",
    "PUBLIC_BASE_URL": "https://portail.example.gouv.fr/",
}


def test_a_complete_environment_gives_typed_settings() -> None:
    settings = Settings.from_environment(VALID)
    assert settings.stage == "dev"
    assert settings.public_base_url == "https://portail.example.gouv.fr"
    assert settings.table_name("accounts") == "portail-stagiaire-dev-accounts"
    assert settings.secure_cookies and settings.strict_transport_security


def test_every_missing_or_wrong_variable_is_named_at_once() -> None:
    broken = {**VALID, "STAGE": "staging", "MAIL_SENDER": "pas-une-adresse"}
    del broken["EXCHANGE_BUCKET"], broken["AWS_REGION"]
    with pytest.raises(SettingsError) as error:
        Settings.from_environment(broken)
    message = str(error.value)
    for name in ("STAGE must be one of", "EXCHANGE_BUCKET is missing", "AWS_REGION", "MAIL_SENDER"):
        assert name in message


def test_test_shortcuts_are_refused_outside_local_and_test() -> None:
    with pytest.raises(SettingsError, match="CAPTCHA_TEST_ANSWER"):
        Settings.from_environment({**VALID, "CAPTCHA_TEST_ANSWER": "123456"})
    local = Settings.from_environment(
        {
            **VALID,
            "STAGE": "local",
            "PUBLIC_BASE_URL": "http://localhost:8000",
            "CAPTCHA_TEST_ANSWER": "1",
        }
    )
    assert local.captcha_test_answer == "1" and not local.secure_cookies


def test_plain_http_is_refused_for_a_public_address() -> None:
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL"):
        Settings.from_environment({**VALID, "PUBLIC_BASE_URL": "http://portail.example.gouv.fr"})
