"""AWS faults, answered by the emulator with the real services' errors (tests/support/faults.py):
what a person sees, what a queue does, and that nothing is half-written or lost.

botocore retries throttling and 5xx errors itself: a fault set for good outlasts the retries and
reaches the portal; one set for a few answers is absorbed by them, or fails one run that the
queue then retries.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest

from chalicelib.container import get_container
from chalicelib.services.accounts.model import Account
from chalicelib.store.models import DossierItem, PaymentItem
from local.poller import QueuePoller
from tests.integration.conftest import mails_to
from tests.integration.test_accounts_web import LUCAS, log_in, sign_up
from tests.integration.test_franceconnect_web import (  # noqa: F401 (fixtures)
    fake,
    franceconnect,
    franceconnect_settings,
    web,
)
from tests.integration.test_funder_files_chain import (
    DOSSIER_HEADER,
    PAYMENT_HEADER,
    csv_file,
    dossier_line,
    payment_line,
    payments_of,
)
from tests.support.api import Api
from tests.support.aws import drop, run_queue
from tests.support.faults import (
    INTERNAL_SERVER_ERROR,
    PROVISIONED_THROUGHPUT_EXCEEDED,
    S3_SLOW_DOWN,
    SECRETS_MANAGER_INTERNAL,
    SES_THROTTLING,
    THROTTLING,
    Faults,
    inject_faults,
)
from tests.support.web import WebClient

# Attempts botocore makes before giving up: PynamoDB's clients use the standard mode with 3
# retries; boto3's default (legacy) mode makes 5 attempts for S3 and SES.
DYNAMODB_ATTEMPTS = 4
LEGACY_ATTEMPTS = 5
UNAVAILABLE = "Service momentanément indisponible"
SECRET_NAME = "portail-stagiaire/test/franceconnect-client-secret"


@pytest.fixture
def faults() -> Iterator[Faults]:
    with inject_faults() as injected:
        yield injected


def test_a_page_answers_a_french_503_with_its_reference_and_writes_nothing_half(
    portal: WebClient, faults: Faults
) -> None:
    faults.fail("dynamodb", "TransactWriteItems", PROVISIONED_THROUGHPUT_EXCEEDED)
    status, body = sign_up(portal)
    assert faults.failed.count(("dynamodb", "TransactWriteItems")) == DYNAMODB_ATTEMPTS
    assert status == 503
    assert UNAVAILABLE in body and "Réessayez dans quelques minutes" in body
    assert "Référence de l’erreur, utile au support" in body
    faults.clear()
    # The account, its address claim and the dossier's link go in one transaction: none of them.
    assert get_container().accounts.find_by_email(LUCAS["email"]) is None
    assert DossierItem.get("region-idf", LUCAS["dossier_number"]).account_id is None
    assert mails_to(LUCAS["email"]) == []
    # Once DynamoDB answers again, the same sign-up goes through.
    assert sign_up(portal) == (303, "/region-idf/inscription/confirmation")


def test_the_api_answers_a_json_503_with_its_reference_when_dynamodb_keeps_failing(
    portal: WebClient, faults: Faults
) -> None:
    api = Api(portal.client)
    faults.fail("dynamodb", "TransactWriteItems", INTERNAL_SERVER_ERROR)
    captcha = api.captcha()
    answer = api.sign_up(captcha)
    assert answer.status == 503
    error = answer.json["error"]
    assert error["code"] == "service_unavailable"
    assert error["message"].startswith("Le service est momentanément indisponible")
    assert error["reference"]
    assert answer.headers.get("Retry-After") == "60"
    faults.clear()
    assert get_container().accounts.find_by_email(LUCAS["email"]) is None


def failing_poller(queue_variable: str, handler_name: str) -> tuple[QueuePoller, list[str]]:
    import app as portal_app

    failures: list[str] = []
    handler = getattr(portal_app, handler_name)
    return (
        QueuePoller(os.environ[queue_variable], handler, failures.append, retry_delay_seconds=0),
        failures,
    )


@pytest.fixture
def funder_file_queue(portal: WebClient) -> tuple[QueuePoller, list[str]]:
    return failing_poller("FUNDER_FILES_QUEUE", "handle_funder_file_messages")


def test_a_funder_file_met_by_s3_slow_down_fails_its_run_and_the_retry_stores_it_all(
    portal: WebClient, faults: Faults, funder_file_queue: tuple[QueuePoller, list[str]]
) -> None:
    poller, failures = funder_file_queue
    numbers = [f"IDF-S3-{index:03d}" for index in range(150)]
    drop("region-idf", "dossiers_s3.csv", csv_file(DOSSIER_HEADER, map(dossier_line, numbers)))
    run_queue()
    payments = [payment_line(number, f"P-{number}") for number in numbers]
    drop("region-idf", "paiements_s3.csv", csv_file(PAYMENT_HEADER, payments))
    faults.fail("s3", "GetObject", S3_SLOW_DOWN, times=LEGACY_ATTEMPTS)
    assert poller.poll_once()
    assert failures and "SlowDown" in failures[0], "the run raises: SQS delivers it again"
    assert payments_of("region-idf") == {}
    assert poller.poll_once() and len(failures) == 1
    stored = payments_of("region-idf")
    assert set(stored) == {f"P-{number}" for number in numbers}


def test_dynamodb_throttling_midway_fails_the_run_and_the_retry_ends_as_one_clean_run(
    portal: WebClient, faults: Faults, funder_file_queue: tuple[QueuePoller, list[str]]
) -> None:
    poller, failures = funder_file_queue
    numbers = [f"IDF-DDB-{index:03d}" for index in range(150)]
    drop("region-idf", "dossiers_ddb.csv", csv_file(DOSSIER_HEADER, map(dossier_line, numbers)))
    run_queue()
    payments = [payment_line(number, f"P-{number}") for number in numbers]
    drop("region-idf", "paiements_ddb.csv", csv_file(PAYMENT_HEADER, payments))
    # The first 100 payments go through; the second transaction stays throttled for good.
    first_batch = {"done": False}

    def second_batch(body: dict[str, object]) -> bool:
        items = body.get("TransactItems", [])
        if not first_batch["done"]:
            first_batch["done"] = True
            return False
        return bool(items)

    faults.fail("dynamodb", "TransactWriteItems", THROTTLING, when=second_batch)
    assert poller.poll_once()
    assert failures and "TransactWriteError" in failures[0]
    assert faults.failed.count(("dynamodb", "TransactWriteItems")) == DYNAMODB_ATTEMPTS
    assert len(payments_of("region-idf")) == 100, "the first transaction only"
    faults.clear()
    assert poller.poll_once() and len(failures) == 1
    stored = payments_of("region-idf")
    assert set(stored) == {f"P-{number}" for number in numbers}
    assert {item.total for item in stored.values()} == {"144.85"}


def test_ses_throttling_on_payment_day_delays_the_mails_but_loses_none(
    portal: WebClient, faults: Faults
) -> None:
    container = get_container()
    numbers = [f"IDF-SES-{index:03d}" for index in range(3)]
    drop("region-idf", "dossiers_ses.csv", csv_file(DOSSIER_HEADER, map(dossier_line, numbers)))
    run_queue()
    for index, number in enumerate(numbers):
        dossier = container.dossiers.get("region-idf", number)
        assert dossier is not None
        account = Account(
            account_id=f"ses-{index}",
            email=f"stagiaire.{index}@example.fr",
            family_name=dossier.family_name,
            given_names=dossier.given_names,
            birth_date=dossier.birth_date,
            created_at=datetime.now(UTC),
        )
        container.accounts.create(account, link_dossier=("region-idf", number))
    payments = [payment_line(number, f"P-{number}") for number in numbers]
    drop("region-idf", "paiements_ses.csv", csv_file(PAYMENT_HEADER, payments))
    run_queue()  # stores the payments, queues one notice each
    poller, failures = failing_poller("NOTIFICATIONS_QUEUE", "handle_notification_messages")
    faults.fail("ses", "SendRawEmail", SES_THROTTLING)
    assert poller.poll_once()
    assert failures and "Throttling" in failures[0], "the batch goes back to the queue"
    assert not any(item.notified for item in PaymentItem.query("region-idf"))
    faults.clear()
    while poller.poll_once():
        pass
    assert len(failures) == 1
    for index in range(len(numbers)):
        subjects = [subject for subject, _ in mails_to(f"stagiaire.{index}@example.fr")]
        assert subjects == ["Un nouveau paiement est disponible"], f"trainee {index}"
    assert all(item.notified for item in PaymentItem.query("region-idf"))


@pytest.fixture
def secret_in_secrets_manager(
    franceconnect_settings: None,  # noqa: F811 (the fixture imported above)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As in AWS: the client secret comes from Secrets Manager, not from the environment."""
    monkeypatch.delenv("FRANCECONNECT_CLIENT_SECRET")
    monkeypatch.setenv("FRANCECONNECT_SECRET_NAME", SECRET_NAME)


def test_secrets_manager_unavailable_fails_franceconnect_in_french_not_password_logins(
    secret_in_secrets_manager: None,
    web: WebClient,  # noqa: F811 (the fixture imported above)
    faults: Faults,
) -> None:
    from local.fake_franceconnect import LOCAL_CLIENT_SECRET

    boto3.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=LOCAL_CLIENT_SECRET)
    faults.fail("secrets-manager", "GetSecretValue", SECRETS_MANAGER_INTERNAL)
    page = franceconnect(web)
    assert ("secrets-manager", "GetSecretValue") in faults.failed
    assert page.status == 503
    assert UNAVAILABLE in page.text and "Référence de l’erreur" in page.text
    # The password login does not need the secret.
    from local.demo import READY, create_ready_account

    faults.clear()
    create_ready_account()
    faults.fail("secrets-manager", "GetSecretValue", SECRETS_MANAGER_INTERNAL)
    signed_in = log_in(web, READY.email, READY.password)
    # Signed in: the next step is the CGU this fixture published, not an error page.
    assert signed_in.status == 303 and signed_in.location == "/cgu"
