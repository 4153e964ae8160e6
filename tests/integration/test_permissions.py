"""The code, the Lambda policy and the template agree: a whole journey of the app, recorded call by
call, needs only resources that infra/template.yaml defines and permissions that the policy grants;
and every grant of the policy is used by that journey or by Lambda itself, nothing more."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.container import get_container, reset_container
from infra.policy import lambda_policy
from local.demo import DEMO_DIR
from tests.integration.test_accounts_web import (
    LUCAS,
    complete_first_login,
    log_in,
    sign_up,
)
from tests.integration.test_recovery_web import (
    RESET_PASSWORD,
    ask_for_a_code,
    choose_password,
    enter_code,
    mailed_code,
)
from tests.support.aws import drop, queue_runner
from tests.support.iam import (
    Call,
    Permission,
    permissions_needed,
    record_aws_calls,
    statements_allowing,
    unused_grants,
)
from tests.support.messages import answer, claire, start_thread
from tests.support.web import WebClient

ROOT = Path(__file__).resolve().parents[2]
REGION = "eu-west-3"
PAYMENT = (
    b"numero_dossier;reference_paiement;date_mise_en_paiement;periode_debut;periode_fin;"
    b"element;libelle;taux;jours;diviseur;montant\n"
    b"IDF-2026-000789;IDF-P-LUCAS-1;09/10/2026;07/09/2026;30/09/2026;REMUNERATION;;685,00;24;30;"
    b"548,00\n"
)
# Lucas's dossier as the funder sends it again with a later end of training.
LUCAS_DOSSIER_LATER = b"\n".join(
    line.replace(b"03/07/2027", b"31/07/2027") if line.startswith(b"IDF-2026-000789") else line
    for line in (DEMO_DIR / "dossiers_region-idf.csv").read_bytes().splitlines()
    if line.startswith((b"numero_dossier", b"IDF-2026-000789"))
)
PAYMENT_PAGE = "/formations/paiement?financeur=region-idf&reference=IDF-P-LUCAS-1"

# Grants used by AWS on the function's behalf rather than by our code, by (Sid, action or resource).
USED_BY_LAMBDA = {
    **{
        ("WriteLogs", item): "the runtime ships what the function prints (logs and metrics)"
        for item in lambda_policy("test")["Statement"][0]["Action"]
        + lambda_policy("test")["Statement"][0]["Resource"]
    },
    ("ConsumeFunderFiles", "sqs:GetQueueAttributes"): "the event source mapping reads the queue",
    ("QueueAndConsumeNotifications", "sqs:GetQueueAttributes"): "the event source mapping",
    ("QueueAndConsumeSecurityMails", "sqs:GetQueueAttributes"): "the event source mapping",
    # S3 events of the versioned exchange bucket name the version; moto's events leave it out.
    ("ReadFunderFiles", "s3:GetObjectVersion"): "real S3 events carry a versionId",
}


def _journey(camille: WebClient) -> list[Call]:
    """Sign-up, first login, a payment file with its mail, Mes formations and the PDF, Mon compte,
    Mes messages on both sides, Mot de passe oublié, the FranceConnect secret, logout."""
    lucas = WebClient(camille.client, source_ip="192.0.2.30")
    funder_files, notifications = queue_runner("funder-files"), queue_runner("notifications")
    security_mails = queue_runner("security-mails")
    with record_aws_calls() as calls:
        sign_up(lucas)
        notifications()
        complete_first_login(lucas)
    # The funder's drop is the funder's own right (infra/funder-access.yaml), not the app's.
    drop("region-idf", "paiements_lucas.csv", PAYMENT)
    drop("region-idf", "dossiers_lucas.csv", LUCAS_DOSSIER_LATER)
    with record_aws_calls() as more:
        funder_files()
        notifications()
        assert "548,00" in lucas.get(PAYMENT_PAGE).text
        for _ in range(2):  # made and stored once, then served from the bucket
            assert lucas.get(PAYMENT_PAGE.replace("paiement?", "paiement/pdf?")).status == 303
        assert lucas.get("/mes-donnees/telechargement").status == 200
        form = lucas.get("/compte/telephone")
        lucas.post("/compte/telephone", {"csrf": form.hidden("csrf"), "phone": "06 12 34 56 78"})

        thread = start_thread(camille)
        answer(claire(camille), "/organisme/messages/fil", thread, "Voici votre attestation.")
        notifications()

        page = lucas.get("/formations")
        lucas.post("/deconnexion", {"csrf": page.hidden("csrf")})
        ask_for_a_code(lucas, LUCAS["email"])
        security_mails()
        enter_code(lucas, mailed_code(LUCAS["email"]))
        assert choose_password(lucas, "Lille").status == 303
        assert log_in(lucas, LUCAS["email"], RESET_PASSWORD).location == "/formations"

        assert get_container().franceconnect_client_secret() == "du-coffre"
    return calls + more


def _resource_name(permission: Permission) -> str:
    """The template-level name inside an ARN: table, bucket, queue, secret, SES identity or set."""
    patterns = (
        r"table/([^/]+)",
        r"^arn:aws:s3:::([^/]+)/",
        r"^arn:aws:sqs:[^:]+:[^:]+:(.+)$",
        r"secret:(.+)-\w{6}$",
        r"configuration-set/(.+)$",
        r"identity/(.+)$",
    )
    for pattern in patterns:
        if found := re.search(pattern, permission.resource):
            return found.group(1)
    raise AssertionError(permission)


@pytest.fixture
def recorded(
    aws: dict[str, str], messages_on: WebClient, monkeypatch: pytest.MonkeyPatch
) -> set[Permission]:
    # What dev and prod have and the test stage leaves out: the SES configuration set named on
    # every mail, and the FranceConnect secret in Secrets Manager (the operators put its value).
    boto3.client("secretsmanager").create_secret(
        Name=aws["FranceConnectSecretName"], SecretString="du-coffre"
    )
    monkeypatch.delenv("FRANCECONNECT_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("FRANCECONNECT_SECRET_NAME", aws["FranceConnectSecretName"])
    monkeypatch.setenv("MAIL_CONFIGURATION_SET", aws["MailConfigurationSetName"])
    reset_container()
    calls = _journey(messages_on)
    return {permission for call in calls for permission in permissions_needed(call)}


def test_every_call_of_a_whole_journey_is_granted_and_names_a_resource_of_the_template(
    aws: dict[str, str], recorded: set[Permission]
) -> None:
    policy = lambda_policy("test")
    refused = sorted(
        f"{p.action} {p.resource}" for p in recorded if not statements_allowing(policy, p)
    )
    assert refused == []

    mail_domain = "portail-stagiaire.example.gouv.fr"
    defined = set(aws.values()) | {mail_domain}
    undefined = sorted({_resource_name(p) for p in recorded} - defined)
    assert undefined == []
    services = {p.action.split(":")[0] for p in recorded}
    assert services == {"dynamodb", "s3", "sqs", "ses", "secretsmanager"}


def test_every_grant_of_the_policy_is_used_by_the_journey_or_by_lambda(
    recorded: set[Permission],
) -> None:
    unused = unused_grants(lambda_policy("test"), recorded) - set(USED_BY_LAMBDA)
    assert not unused, "\n".join(map(str, sorted(unused)))


def test_every_table_bucket_queue_and_secret_of_the_template_is_used(
    aws: dict[str, str], recorded: set[Permission]
) -> None:
    used = {_resource_name(p) for p in recorded}
    # Dead-letter queues are read by operators (`admin replay`), never by the app.
    operators_only = {
        aws["FunderFilesDeadLetterQueueName"],
        aws["NotificationsDeadLetterQueueName"],
        aws["SecurityMailsDeadLetterQueueName"],
    }
    names: dict[str, Any] = {
        key: value
        for key, value in aws.items()
        if key.endswith(("TableName", "BucketName", "QueueName", "SecretName", "SetName"))
    }
    assert sorted(k for k, v in names.items() if v not in used and v not in operators_only) == []


class _ReadVariables(dict[str, str]):
    """An environment that remembers which variables were looked up."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_the_chalice_stage_sets_only_variables_the_settings_read_and_the_deploy_script_fills(
    stage: str,
) -> None:
    from chalicelib.settings import Settings
    from infra.deploy import OUTPUT_TO_ENVIRONMENT, environment_from_outputs

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    variables = config["stages"][stage]["environment_variables"]
    environment = _ReadVariables({**variables, "AWS_REGION": REGION})
    Settings.from_environment(environment)
    assert set(variables) - environment.read == set()
    placeholders = {name for name, value in variables.items() if value.startswith("set-by:")}
    outputs = {key: "from-the-stack" for key in OUTPUT_TO_ENVIRONMENT}
    assert placeholders <= set(environment_from_outputs(stage, outputs))
