"""The `test` stage's environment: what the test suite and the benchmarks set before anything
imports chalicelib (its settings are validated at import). moto answers every AWS call."""

from __future__ import annotations

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
    "MAIL_EVENTS_QUEUE": "portail-stagiaire-test-mail-events",
    "MAIL_SENDER": "ne-pas-repondre@portail-stagiaire.example.gouv.fr",
    "PUBLIC_BASE_URL": "http://localhost:8000",
    "CAPTCHA_TEST_ANSWER": "123456",
    "POWERTOOLS_METRICS_NAMESPACE": "PortailStagiaire",
}
