"""The code, the Lambda policies and the template agree: a whole journey of the app, recorded call
by call and put down to the function that makes each call (the API, or the handler of a queue),
needs only resources that infra/template.yaml defines and permissions that that function's own
policy grants; and every grant of each function's policy is used by that function in the journey
or by Lambda itself, nothing more."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

import chalicelib.container as container_module
from chalicelib.container import get_container, reset_container
from chalicelib.services.accounts.retention import INACTIVITY_NOTICE, INACTIVITY_PERIOD
from chalicelib.services.mail.notifications import payment_mail_tags
from infra.policy import CONSUMED_QUEUE, FUNCTIONS, function_policy
from local.demo import DEMO_DIR, READY
from tests.integration.conftest import mails_to
from tests.integration.test_accounts_web import (
    LUCAS,
    complete_first_login,
    log_in,
    sign_up,
    temporary_password,
)
from tests.integration.test_recovery_web import (
    RESET_PASSWORD,
    ask_for_a_code,
    choose_password,
    enter_code,
    mailed_code,
)
from tests.support.api import Api
from tests.support.aws import drop, queue_runner
from tests.support.iam import (
    Call,
    CallsByFunction,
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
# Lucas's dossier as the funder sends it again with a later end of training, and the dossier of
# Sami, who signed up before the funder knew him (his account awaits it).
SAMI = {
    "family_name": "Nouveau",
    "given_names": "Sami",
    "birth_date": "01/01/2000",
    "dossier_number": "",
    "no_dossier": "oui",
    "email": "sami@example.fr",
    "email_confirmation": "sami@example.fr",
}
LUCAS_DOSSIER_LATER = b"\n".join(
    [
        line.replace(b"03/07/2027", b"31/07/2027") if line.startswith(b"IDF-2026-000789") else line
        for line in (DEMO_DIR / "dossiers_region-idf.csv").read_bytes().splitlines()
        if line.startswith((b"numero_dossier", b"IDF-2026-000789"))
    ]
    + [
        b"IDF-2026-000999;NOUVEAU;Sami;01/01/2000;sami@example.fr;CUISINE;Cuisinier;07/09/2026;"
        b"03/07/2027;54756834567143;Institut de formation num\xc3\xa9rique;;685,00;25/08/2026;"
        b"en_cours"
    ]
)
PAYMENT_PAGE = "/formations/paiement?financeur=region-idf&reference=IDF-P-LUCAS-1"
CAMILLE_PDF = "/formations/paiement/pdf?financeur=region-idf&reference=IDF-P-2017-0001"
CAMILLE_HDF_PDF = "/formations/paiement/pdf?financeur=region-hdf&reference=HDF-P-2026-0007"
CAMILLE_WITHDRAWN = (DEMO_DIR / "dossiers_region-idf.csv").read_bytes().splitlines()[
    0
] + b"\nIDF-2017-000123;;;;;;;;;;;;;;supprime\n"


# Grants used by AWS on the function's behalf rather than by our code, by function and (Sid,
# action or resource).
def _used_by_lambda(function: str) -> dict[tuple[str, str], str]:
    logs = function_policy("test", function)["Statement"][0]
    used = {
        ("WriteLogs", item): "the runtime ships what the function prints (logs and metrics)"
        for item in logs["Action"] + logs["Resource"]
    }
    if function in CONSUMED_QUEUE:
        used[("ConsumeQueue", "sqs:GetQueueAttributes")] = (
            "the event source mapping reads the queue"
        )
    if function == "funder_files":
        # S3 events of the versioned exchange bucket name the version; moto's events leave it out.
        used[("ReadFunderFiles", "s3:GetObjectVersion")] = "real S3 events carry a versionId"
    if function == "api_handler":
        # S3 authorises a presigned POST against the role that signed it: the API never puts a
        # funder's file itself (tests/integration/test_funder_uploads.py posts one).
        uploads = next(
            statement
            for statement in function_policy("test", function)["Statement"]
            if statement["Sid"] == "SignFunderUploads"
        )
        for item in (uploads["Action"], uploads["Resource"]):
            used[("SignFunderUploads", item)] = "S3 checks the signer's right on a presigned POST"
    if function == "funder_files":
        # The dashboard counts a dossier whose account is activated with a check that it is
        # still linked (store/dashboard.py::count_activation): a dossier file linking an
        # account that finished its first login does it; the journey's awaiting account (Sami)
        # has not finished his (tests/integration/test_funder_dashboard.py covers that link).
        used[("UseTables", "dynamodb:ConditionCheckItem")] = "a file links an activated account"
    return used


FUNDER = "the funder"  # the funder's drops are its own right (infra/funder-access.yaml)
SES = "SES"  # its publication to the mail-events topic is its own right (the topic's policy)
BOUNCE = {
    "eventType": "Bounce",
    "bounce": {
        "bounceType": "Permanent",
        "bounceSubType": "General",
        "bouncedRecipients": [{"emailAddress": LUCAS["email"]}],
        "timestamp": "2026-11-10T08:00:01.000Z",
    },
    "mail": {
        "messageId": "0102018c-test",
        "destination": [LUCAS["email"]],
        # The bounced mail is the payment's: its tags name it (services/mail/notifications.py).
        "tags": {name: [value] for name, value in payment_mail_tags("region-idf", "IDF-P-LUCAS-1")},
    },
}


def _journey(camille: WebClient, mail_events_topic: str) -> dict[str, list[Call]]:
    """Sign-up, first login, a payment file with its mail, Mes formations and the PDF, Mon compte,
    Mes messages on both sides, Mot de passe oublié, the FranceConnect secret, logout; and Sami,
    signed up before his funder knew him: his dossier file links his account (with a mail), and
    as he never finished his first login, Mot de passe oublié sends him a temporary password and
    ends his sessions; then SES's bounce of Lucas's address, and a mail the portal keeps back.
    Then retention: the funder withdraws Camille's guide dossier, Lucas closes his account, and
    the daily job, three years and then three years and 30 days later, warns then closes the
    accounts left and purges the dossiers past their funder's period."""
    lucas = WebClient(camille.client, source_ip="192.0.2.30")
    sami = WebClient(camille.client, source_ip="192.0.2.31")
    runners = {
        function: queue_runner(queue)
        for function, queue in (
            ("funder_files", "funder-files"),
            ("notifications", "notifications"),
            ("security_mails", "security-mails"),
            ("mail_events", "mail-events"),
        )
    }
    with record_aws_calls() as calls:
        journey = CallsByFunction(calls, default="api_handler")

        def run(function: str) -> None:
            with journey.acting_as(function):
                runners[function]()

        sign_up(lucas)
        run("notifications")
        complete_first_login(lucas)
        assert sign_up(sami, **SAMI)[0] == 303
        page = log_in(sami, SAMI["email"], temporary_password(SAMI["email"]))
        assert page.location == "/premiere-connexion/mot-de-passe"
        with journey.acting_as(FUNDER):
            drop("region-idf", "paiements_lucas.csv", PAYMENT)
            drop("region-idf", "dossiers_lucas.csv", LUCAS_DOSSIER_LATER)
        run("funder_files")
        run("notifications")
        # The funder's system reads the report of its file through the API.
        with journey.acting_as(FUNDER):
            key = get_container().funder_api_keys.issue("region-idf").key
        api = Api(camille.client)
        files = api.call("GET", "/api/v1/funder/files", token=key).json["files"]
        report = api.call("GET", f"/api/v1/funder/files/{files[0]['id']}/report", token=key)
        assert report.status == 200, report.body
        assert "548,00" in lucas.get(PAYMENT_PAGE).text
        for _ in range(2):  # made and stored once, then served from the bucket
            assert lucas.get(PAYMENT_PAGE.replace("paiement?", "paiement/pdf?")).status == 303
        assert lucas.get("/mes-donnees/telechargement").status == 200
        form = lucas.get("/compte/telephone")
        lucas.post("/compte/telephone", {"csrf": form.hidden("csrf"), "phone": "06 12 34 56 78"})

        thread = start_thread(camille)
        answer(claire(camille), "/organisme/messages/fil", thread, "Voici votre attestation.")
        run("notifications")

        page = lucas.get("/formations")
        lucas.post("/deconnexion", {"csrf": page.hidden("csrf")})
        ask_for_a_code(lucas, LUCAS["email"])
        run("security_mails")
        enter_code(lucas, mailed_code(LUCAS["email"]))
        assert choose_password(lucas, "Lille").status == 303
        assert log_in(lucas, LUCAS["email"], RESET_PASSWORD).location == "/formations"
        assert get_container().accounts.find_by_email(SAMI["email"]).awaiting_dossier is False
        ask_for_a_code(WebClient(camille.client, source_ip="192.0.2.32"), SAMI["email"])
        run("security_mails")
        assert sami.get("/premiere-connexion/mot-de-passe").status == 303  # session ended

        assert get_container().franceconnect_client_secret() == "du-coffre"

        with journey.acting_as(SES):
            boto3.client("sns").publish(TopicArn=mail_events_topic, Message=json.dumps(BOUNCE))
        run("mail_events")
        form = lucas.get("/compte/question-secrete")
        changed = lucas.post(
            "/compte/question-secrete",
            {
                "csrf": form.hidden("csrf"),
                "password": RESET_PASSWORD,
                "question": "Mon chien ?",
                "new_answer": "Rex",
            },
        )
        assert changed.status == 303
        # Retention: each deleter has PDFs to delete.
        assert camille.get(CAMILLE_PDF).status == 303
        with journey.acting_as(FUNDER):
            drop("region-idf", "dossiers_retrait.csv", CAMILLE_WITHDRAWN)
        run("funder_files")
        assert camille.get(CAMILLE_HDF_PDF).status == 303
        form = lucas.get("/compte/fermeture")
        closing = {"csrf": form.hidden("csrf"), "password": RESET_PASSWORD, "closing": "oui"}
        assert lucas.post("/compte/fermeture", closing).location == "/?message=compte-ferme"
        with journey.acting_as(FUNDER):  # the operator's `funder set --retention-years 1`
            idf = get_container().funders.get("region-idf")
            get_container().funders.save(replace(idf, retention_years=1))  # type: ignore[arg-type]
        with journey.acting_as("retention"):
            for later in (INACTIVITY_PERIOD, INACTIVITY_PERIOD + INACTIVITY_NOTICE):
                _run_retention_schedule(camille, later)
        assert get_container().accounts.find_by_email(READY.email) is None
    assert "Votre question secrète a été modifiée" not in [s for s, _ in mails_to(LUCAS["email"])]
    by_function = journey.by_function()
    by_function.pop(FUNDER)
    by_function.pop(SES)
    return by_function


def _run_retention_schedule(web: WebClient, later: timedelta) -> None:
    """The daily schedule's function, as EventBridge invokes it, on the day `later` from now."""
    moment = datetime.now(UTC) + later
    original = container_module.now
    container_module.now = lambda: moment
    reset_container()
    try:
        event = web.client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        web.client.lambda_.invoke("retention", event)
    finally:
        container_module.now = original
        reset_container()


def _resource_name(permission: Permission) -> str:
    """The template-level name inside an ARN: table, bucket, queue, secret, SES identity or set."""
    patterns = (
        r"table/([^/]+)",
        r"^arn:aws:s3:::([^/]+)(?:/|$)",
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
) -> dict[str, set[Permission]]:
    """The permissions each function needed in the journey, by Chalice's function name."""
    # What dev and prod have and the test stage leaves out: the SES configuration set named on
    # every mail, and the FranceConnect secret in Secrets Manager (the operators put its value).
    boto3.client("secretsmanager").create_secret(
        Name=aws["FranceConnectSecretName"], SecretString="du-coffre"
    )
    monkeypatch.delenv("FRANCECONNECT_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("FRANCECONNECT_SECRET_NAME", aws["FranceConnectSecretName"])
    monkeypatch.setenv("MAIL_CONFIGURATION_SET", aws["MailConfigurationSetName"])
    reset_container()
    return {
        function: {permission for call in calls for permission in permissions_needed(call)}
        for function, calls in _journey(messages_on, aws["MailEventsTopicArn"]).items()
    }


def test_every_call_is_granted_to_its_function_and_names_a_resource_of_the_template(
    aws: dict[str, str], recorded: dict[str, set[Permission]]
) -> None:
    assert set(recorded) == set(FUNCTIONS) and all(recorded.values())
    refused = sorted(
        f"{function}: {p.action} {p.resource}"
        for function, permissions in recorded.items()
        for p in permissions
        if not statements_allowing(function_policy("test", function), p)
    )
    assert refused == []

    mail_domain = "portail-stagiaire.example.gouv.fr"
    defined = set(aws.values()) | {mail_domain}
    everything = set().union(*recorded.values())
    undefined = sorted({_resource_name(p) for p in everything} - defined)
    assert undefined == []
    services = {p.action.split(":")[0] for p in everything}
    assert services == {"dynamodb", "s3", "sqs", "ses", "secretsmanager"}


def test_every_grant_of_each_function_policy_is_used_by_that_function_or_by_lambda(
    recorded: dict[str, set[Permission]],
) -> None:
    unused = sorted(
        f"{function}: {sid} {item}"
        for function in FUNCTIONS
        for sid, item in unused_grants(function_policy("test", function), recorded[function])
        - set(_used_by_lambda(function))
    )
    assert not unused, "\n".join(unused)


def test_no_function_could_do_what_another_one_did_with_a_queue(
    recorded: dict[str, set[Permission]],
) -> None:
    """The API cannot consume the funder files' queue, a mail handler cannot consume the other's
    queue: each consumption of the journey is granted to its consumer alone."""
    consumed = {
        (function, p)
        for function, permissions in recorded.items()
        for p in permissions
        if p.action in ("sqs:ReceiveMessage", "sqs:DeleteMessage")
    }
    assert {function for function, _ in consumed} == set(CONSUMED_QUEUE)
    also_allowed = sorted(
        f"{other} could {p.action} {p.resource}"
        for function, p in consumed
        for other in FUNCTIONS
        if other != function and statements_allowing(function_policy("test", other), p)
    )
    assert also_allowed == []


def test_every_table_bucket_queue_and_secret_of_the_template_is_used(
    aws: dict[str, str], recorded: dict[str, set[Permission]]
) -> None:
    used = {_resource_name(p) for permissions in recorded.values() for p in permissions}
    # Dead-letter queues are read by operators (`admin replay`), never by the app; the static
    # files are uploaded by `infra.deploy` and read by CloudFront only (D9).
    operators_only = {
        aws["FunderFilesDeadLetterQueueName"],
        aws["NotificationsDeadLetterQueueName"],
        aws["SecurityMailsDeadLetterQueueName"],
        aws["MailEventsDeadLetterQueueName"],
        aws["AssetsBucketName"],
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
