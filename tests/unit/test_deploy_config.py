"""The pure parts of infra/deploy.py: stack outputs into the Chalice config, parameters, CLI."""

from __future__ import annotations

import json

import pytest

from infra.deploy import (
    DeployError,
    describe_change,
    environment_from_outputs,
    is_no_change,
    merge_environment,
    own_policy_files,
    parse_arguments,
    stack_parameters,
    write_chalice_files,
)
from infra.policy import lambda_policies

OUTPUTS = {
    "ExchangeBucketName": "portail-stagiaire-dev-exchange-111122223333",
    "DocumentsBucketName": "portail-stagiaire-dev-documents-111122223333",
    "FunderFilesQueueName": "portail-stagiaire-dev-funder-files",
    "NotificationsQueueName": "portail-stagiaire-dev-notifications",
    "SecurityMailsQueueName": "portail-stagiaire-dev-security-mails",
    "MailEventsQueueName": "portail-stagiaire-dev-mail-events",
    "FunderFilesQueueArn": "arn:aws:sqs:eu-west-3:111122223333:portail-stagiaire-dev-funder-files",
    "MailConfigurationSetName": "portail-stagiaire-dev",
    "FranceConnectSecretName": "portail-stagiaire/dev/franceconnect-client-secret",
    "AccountsTableName": "portail-stagiaire-dev-accounts",
}


def test_environment_from_outputs_names_every_resource_of_the_app():
    assert environment_from_outputs("dev", OUTPUTS) == {
        "STAGE": "dev",
        "TABLE_PREFIX": "portail-stagiaire-dev",
        "EXCHANGE_BUCKET": "portail-stagiaire-dev-exchange-111122223333",
        "DOCUMENTS_BUCKET": "portail-stagiaire-dev-documents-111122223333",
        "FUNDER_FILES_QUEUE": "portail-stagiaire-dev-funder-files",
        "NOTIFICATIONS_QUEUE": "portail-stagiaire-dev-notifications",
        "SECURITY_MAILS_QUEUE": "portail-stagiaire-dev-security-mails",
        "MAIL_EVENTS_QUEUE": "portail-stagiaire-dev-mail-events",
        "MAIL_CONFIGURATION_SET": "portail-stagiaire-dev",
        "FRANCECONNECT_SECRET_NAME": "portail-stagiaire/dev/franceconnect-client-secret",
    }


def test_environment_from_outputs_refuses_a_stack_without_its_outputs():
    outputs = {k: v for k, v in OUTPUTS.items() if k != "DocumentsBucketName"}
    with pytest.raises(DeployError, match="DocumentsBucketName"):
        environment_from_outputs("dev", outputs)


def test_merge_keeps_the_other_variables_and_stages_and_leaves_the_input_alone():
    config = {
        "version": "2.0",
        "stages": {
            "dev": {
                "iam_policy_file": "policy-dev.json",
                "environment_variables": {
                    "EXCHANGE_BUCKET": "placeholder",
                    "MAIL_SENDER": "ne-pas-repondre@example.org",
                    "PUBLIC_BASE_URL": "https://dev.example.org",
                },
            },
            "prod": {"environment_variables": {"STAGE": "prod"}},
        },
    }
    before = json.dumps(config, sort_keys=True)

    merged = merge_environment(config, "dev", {"STAGE": "dev", "EXCHANGE_BUCKET": "real-bucket"})

    assert json.dumps(config, sort_keys=True) == before
    assert merged["version"] == "2.0"
    assert merged["stages"]["prod"] == {"environment_variables": {"STAGE": "prod"}}
    assert merged["stages"]["dev"]["iam_policy_file"] == "policy-dev.json"
    assert merged["stages"]["dev"]["environment_variables"] == {
        "STAGE": "dev",
        "EXCHANGE_BUCKET": "real-bucket",
        "MAIL_SENDER": "ne-pas-repondre@example.org",
        "PUBLIC_BASE_URL": "https://dev.example.org",
    }


def test_merge_creates_a_missing_stage():
    merged = merge_environment({}, "test", {"STAGE": "test"})
    assert merged == {"stages": {"test": {"environment_variables": {"STAGE": "test"}}}}


def test_parameters_on_creation_leave_out_what_is_not_given():
    given = {"Stage": "dev", "MailDomain": None, "AlarmEmail": "ops@example.org"}
    assert stack_parameters(given) == [
        {"ParameterKey": "Stage", "ParameterValue": "dev"},
        {"ParameterKey": "AlarmEmail", "ParameterValue": "ops@example.org"},
    ]


def test_parameters_on_update_keep_the_current_value_of_what_is_not_given():
    given = {"Stage": "dev", "MailDomain": None, "AlarmEmail": None}
    # AlarmEmail is new in the template: the stack has no previous value for it.
    assert stack_parameters(given, previous_keys=["Stage", "MailDomain"]) == [
        {"ParameterKey": "Stage", "ParameterValue": "dev"},
        {"ParameterKey": "MailDomain", "UsePreviousValue": True},
    ]


@pytest.mark.parametrize(
    ("change_set", "expected"),
    [
        (
            {
                "Status": "FAILED",
                "StatusReason": "The submitted information didn't contain changes. Submit "
                "different information to create a change set.",
            },
            True,
        ),
        ({"Status": "FAILED", "StatusReason": "No updates are to be performed."}, True),
        ({"Status": "CREATE_COMPLETE", "Changes": []}, True),
        ({"Status": "CREATE_COMPLETE", "Changes": [{"ResourceChange": {}}]}, False),
        ({"Status": "FAILED", "StatusReason": "Template format error"}, False),
    ],
)
def test_is_no_change(change_set, expected):
    assert is_no_change(change_set) is expected


def test_a_replacement_is_shown_loudly():
    change = {
        "ResourceChange": {
            "Action": "Modify",
            "LogicalResourceId": "AccountsTable",
            "ResourceType": "AWS::DynamoDB::Table",
            "Replacement": "True",
        }
    }
    assert describe_change(change) == (
        "  - modification : AccountsTable (AWS::DynamoDB::Table) - REMPLACEMENT"
    )


def test_only_a_stage_owning_its_policy_files_gets_them_rewritten():
    config = {
        "stages": {
            "dev": {
                "lambda_functions": {
                    "api_handler": {"iam_policy_file": "policy-dev-api-handler.json"},
                    "funder_files": {"iam_policy_file": "policy-dev-funder-files.json"},
                }
            },
            "local": {
                "lambda_functions": {
                    "api_handler": {"iam_policy_file": "policy-dev-api-handler.json"}
                }
            },
        }
    }
    assert own_policy_files(config, "dev") == {
        "api_handler": "policy-dev-api-handler.json",
        "funder_files": "policy-dev-funder-files.json",
    }
    assert own_policy_files(config, "local") == {}
    assert own_policy_files(config, "prod") == {}


def test_write_chalice_files_updates_the_config_and_the_policy(tmp_path):
    config_path = tmp_path / "config.json"
    config_path.write_text(
        json.dumps(
            {
                "stages": {
                    "prod": {
                        "lambda_functions": {
                            "api_handler": {"iam_policy_file": "policy-prod-api-handler.json"},
                            "notifications": {"iam_policy_file": "policy-prod-notifications.json"},
                        },
                        "environment_variables": {"MAIL_SENDER": "ne-pas-repondre@mail.gouv.fr"},
                    }
                }
            }
        )
    )
    prod_outputs = {k: v.replace("-dev", "-prod") for k, v in OUTPUTS.items()}
    stack = {
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in prod_outputs.items()],
        "Parameters": [{"ParameterKey": "MailDomain", "ParameterValue": "mail.gouv.fr"}],
    }

    write_chalice_files("prod", stack, config_path)

    environment = json.loads(config_path.read_text())["stages"]["prod"]["environment_variables"]
    assert environment["MAIL_SENDER"] == "ne-pas-repondre@mail.gouv.fr"
    assert environment["EXCHANGE_BUCKET"] == "portail-stagiaire-prod-exchange-111122223333"
    expected = lambda_policies("prod", "mail.gouv.fr")
    for function, name in (
        ("api_handler", "policy-prod-api-handler.json"),
        ("notifications", "policy-prod-notifications.json"),
    ):
        assert json.loads((tmp_path / name).read_text()) == expected[function]
    assert sorted(p.name for p in tmp_path.glob("policy-*")) == [
        "policy-prod-api-handler.json",
        "policy-prod-notifications.json",
    ]


def test_command_line_main_stack():
    args = parse_arguments(["--stage", "prod", "--alarm-email", "ops@example.org"])
    assert (args.stage, args.region, args.command) == ("prod", "eu-west-3", None)
    assert (args.mail_domain, args.alarm_email) == (None, "ops@example.org")


def test_command_line_funder_access():
    args = parse_arguments(
        [
            "--stage",
            "dev",
            "funder-access",
            "--funder",
            "france-travail",
            "--trusted-principal",
            "arn:aws:iam::111122223333:role/uploader",
        ]
    )
    assert (args.command, args.funder) == ("funder-access", "france-travail")
    assert args.trusted_principal == "arn:aws:iam::111122223333:role/uploader"


@pytest.mark.parametrize("code", ["A", "Région", "x", "a" * 33, "a/b"])
def test_command_line_refuses_a_funder_code_that_is_not_a_prefix(code, capsys):
    with pytest.raises(SystemExit):
        parse_arguments(
            ["--stage", "dev", "funder-access", "--funder", code, "--trusted-principal", "x"]
        )
    assert "--funder" in capsys.readouterr().err


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_api_gateway_compresses_pages_and_json_above_one_kib(stage):
    """API Gateway compresses a REST API's responses of at least `minimumCompressionSize` bytes
    for a client that sends Accept-Encoding (gzip or deflate; AWS, « Payload compression for
    REST APIs in API Gateway »); Chalice sets it from `minimum_compression_size`. Smaller bodies
    (redirects, short JSON) would gain less than the compression costs."""
    from pathlib import Path

    from chalice.config import Config
    from chalice.deploy.validate import validate_minimum_compression_size

    config_file = Path(__file__).resolve().parents[2] / ".chalice" / "config.json"
    config = Config(chalice_stage=stage, config_from_disk=json.loads(config_file.read_text()))
    assert config.minimum_compression_size == 1024
    validate_minimum_compression_size(config)  # within API Gateway's 0 to 10 MiB
