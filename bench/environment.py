"""The `test` stage's environment, set before anything imports chalicelib (settings validate).

A copy of TEST_ENVIRONMENT in tests/conftest.py, which cannot be imported without pytest: keep
the two in step.
"""

from __future__ import annotations

import os

TEST_ENVIRONMENT: dict[str, str] = {
    "STAGE": "test",
    "AWS_DEFAULT_REGION": "eu-west-3",
    "AWS_REGION": "eu-west-3",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "TABLE_PREFIX": "portail-stagiaire-test",
    "EXCHANGE_BUCKET": "portail-stagiaire-test-exchange-123456789012",
    "DOCUMENTS_BUCKET": "portail-stagiaire-test-documents-123456789012",
    "FUNDER_FILES_QUEUE": "portail-stagiaire-test-funder-files",
    "NOTIFICATIONS_QUEUE": "portail-stagiaire-test-notifications",
    "SECURITY_MAILS_QUEUE": "portail-stagiaire-test-security-mails",
    "MAIL_SENDER": "ne-pas-repondre@portail-stagiaire.example.gouv.fr",
    "PUBLIC_BASE_URL": "http://localhost:8000",
    "CAPTCHA_TEST_ANSWER": "123456",
    "POWERTOOLS_METRICS_NAMESPACE": "PortailStagiaire",
}

# Would send boto3 to a real account or a running emulator instead of moto in process.
_UNSAFE_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_PROFILE")


def test_stage_environment() -> dict[str, str]:
    """A copy of this process's environment with the test stage's variables in it."""
    environment = {k: v for k, v in os.environ.items() if k not in _UNSAFE_VARIABLES}
    environment.update(TEST_ENVIRONMENT)
    return environment


def apply() -> None:
    """Put this process in the test stage's environment."""
    for name in _UNSAFE_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(TEST_ENVIRONMENT)
