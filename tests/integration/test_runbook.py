"""The operators' runbook (README, « Pour les opérateurs ») on the emulator, through the very
command it gives: `python -m infra.deploy` creates what the application needs, writes it into the
Chalice config, uploads the static files, then puts CloudFront in front of the API that
`chalice deploy` created. Its own module: every test starts from an empty emulated account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.policy import TABLE_SUFFIXES

ROOT = Path(__file__).resolve().parents[2]
CHALICE_DIR = ROOT / ".chalice"
REGION = "eu-west-3"


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


@pytest.fixture
def change_sets_with_outputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto 5.2 executes a change set without reading the new template's Outputs (a stack made
    by create_stack has them): read them once the change set is applied, as CloudFormation does."""
    from moto.cloudformation.models import CloudFormationBackend

    execute = CloudFormationBackend.execute_change_set

    def execute_then_read_outputs(self: Any, change_set_name: str, stack_name: Any = None) -> None:
        execute(self, change_set_name, stack_name)
        for stack in self.stacks.values():
            stack._parse_template()
            stack.output_map = stack._create_output_map()

    monkeypatch.setattr(CloudFormationBackend, "execute_change_set", execute_then_read_outputs)


@pytest.fixture
def operator_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of .chalice for the deploy command to write into."""
    import infra.deploy

    (tmp_path / "config.json").write_text((CHALICE_DIR / "config.json").read_text())
    monkeypatch.setattr(infra.deploy, "CHALICE_CONFIG", tmp_path / "config.json")
    monkeypatch.setattr(infra.deploy, "CHALICE_DEPLOYED", tmp_path / "deployed")
    return tmp_path


CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"


@pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")
def test_the_runbook_first_run_gives_the_application_its_resources_and_the_static_files(
    change_sets_with_outputs: None, operator_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """« Pour les opérateurs », step 1, through `python -m infra.deploy` itself."""
    from chalicelib.web.static_files import CACHE_FOREVER, published_files
    from infra.deploy import main

    with mock_aws():
        arguments = ["--stage", "dev", "--mail-domain", "portail-stagiaire.example.gouv.fr"]
        domain = ["--domain-name", "portail-stagiaire.example.gouv.fr"]
        assert main([*arguments, *domain, "--certificate-arn", CERTIFICATE]) == 0
        config = json.loads((operator_files / "config.json").read_text())
        environment = config["stages"]["dev"]["environment_variables"]
        assert not [name for name, value in environment.items() if value.startswith("set-by:")]
        # Every resource the app is told about exists.
        for suffix in TABLE_SUFFIXES:
            client("dynamodb").describe_table(TableName=f"{environment['TABLE_PREFIX']}-{suffix}")
        for bucket in (environment["EXCHANGE_BUCKET"], environment["DOCUMENTS_BUCKET"]):
            client("s3").head_bucket(Bucket=bucket)
        for queue in ("FUNDER_FILES_QUEUE", "NOTIFICATIONS_QUEUE", "SECURITY_MAILS_QUEUE"):
            client("sqs").get_queue_url(QueueName=environment[queue])
        assert environment["MAIL_CONFIGURATION_SET"] == "portail-stagiaire-dev"
        assert (operator_files / "policy-dev-api-handler.json").is_file()

        # The static files, for CloudFront, with their type and a year-long cache.
        assets = "portail-stagiaire-dev-assets-123456789012"
        keys = {
            item["Key"]
            for page in client("s3").get_paginator("list_objects_v2").paginate(Bucket=assets)
            for item in page.get("Contents", [])
        }
        assert keys == {f"static/{relative}" for relative, _ in published_files()}
        font = client("s3").head_object(Bucket=assets, Key="static/dsfr/fonts/Marianne-Bold.woff2")
        assert (font["ContentType"], font["CacheControl"]) == ("font/woff2", CACHE_FOREVER)
        output = capsys.readouterr().out
        assert f"{len(keys)} envoyés" in output
        assert "Pas de distribution CloudFront : déployez l'application" in output

        # Run again: nothing to upload.
        assert main(arguments) == 0
        assert "Fichiers statiques : 0 envoyés" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")
def test_the_runbook_second_run_puts_the_distribution_in_front_of_the_api_chalice_deployed(
    change_sets_with_outputs: None, operator_files: Path
) -> None:
    """Step 3: `chalice deploy` recorded its API; the infrastructure then reads its id."""
    from infra.deploy import deployed_api_id, main

    deployed = operator_files / "deployed"
    deployed.mkdir()
    record = {
        "resources": [
            {"name": "api_handler", "resource_type": "lambda_function", "lambda_arn": "arn:x"},
            {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": "a1b2c3d4e5"},
        ],
        "schema_version": "2.0",
    }
    (deployed / "dev.json").write_text(json.dumps(record))
    assert deployed_api_id("dev", deployed) == "a1b2c3d4e5"
    assert deployed_api_id("prod", deployed) is None
    with mock_aws():
        assert main(["--stage", "dev"]) == 0
        cloudformation = client("cloudformation")
        [summary] = cloudformation.list_change_sets(StackName="portail-stagiaire-dev")["Summaries"]
        change_set = cloudformation.describe_change_set(
            StackName="portail-stagiaire-dev", ChangeSetName=summary["ChangeSetName"]
        )
    # What the command asked CloudFormation for (moto keeps it on the change set only).
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in change_set["Parameters"]}
    assert parameters == {"Stage": "dev", "ApiId": "a1b2c3d4e5"}
    added = {c["ResourceChange"]["LogicalResourceId"] for c in change_set["Changes"]}
    assert {"Distribution", "OriginWebAcl", "OriginWebAclAssociation"} <= added
