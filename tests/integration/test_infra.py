"""The infrastructure: templates lint clean, the emulator's resources match the template, the
Lambda policies and the Chalice config agree with it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest
from moto import mock_aws

from infra.deploy import FUNDER_CODE, MAIN_TEMPLATE, deploy_stack, environment_from_outputs
from infra.policy import (
    FUNCTIONS,
    INDEXED_TABLE_SUFFIXES,
    TABLE_SUFFIXES,
    lambda_policies,
    policy_file_name,
)
from local.resources import create_resources_in_process, load_template

ROOT = Path(__file__).resolve().parents[2]
CHALICE_DIR = ROOT / ".chalice"
FUNDER_TEMPLATE = ROOT / "infra" / "funder-access.yaml"
REGION = "eu-west-3"
TEMPLATE = load_template()


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def physical_name(value: Any, stage: str) -> str:
    """The name a `!Sub` gives once deployed into the emulator's account."""
    return value["Fn::Sub"].replace("${Stage}", stage).replace("${AWS::AccountId}", "123456789012")


TEMPLATE_TABLES = resources_of_type(TEMPLATE, "AWS::DynamoDB::Table")


@pytest.fixture(scope="module")
def deployed() -> Iterator[dict[str, str]]:
    """The `test` stage, deployed once for this module (the deployment is the thing under test)."""
    with mock_aws():
        yield create_resources_in_process(stage="test", region=REGION)


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


# ---------------------------------------------------------------- templates


@pytest.mark.parametrize("template", [MAIN_TEMPLATE, FUNDER_TEMPLATE], ids=lambda p: p.name)
def test_template_has_no_lint_error_nor_warning(template):
    """cfn-lint's rules and the project's (infra/lint_rules; see test_lint_rules.py)."""
    from cfnlint.api import lint
    from cfnlint.core import get_rules

    from infra.lint import RULES

    rules = get_rules([str(RULES)], [], [])
    matches = lint(template.read_text(encoding="utf-8"), rules=rules, regions=[REGION])
    problems = [str(m) for m in matches if m.rule.severity in ("error", "warning")]
    assert problems == []


def test_funder_code_rule_is_the_same_in_the_template_and_the_script():
    funder_template = load_template(FUNDER_TEMPLATE)
    assert funder_template["Parameters"]["FunderCode"]["AllowedPattern"] == FUNDER_CODE.pattern


def test_funder_access_writes_only_under_its_own_prefix():
    statements = resources_of_type(load_template(FUNDER_TEMPLATE), "AWS::IAM::ManagedPolicy")[
        "FunderPolicy"
    ]["PolicyDocument"]["Statement"]
    writes = [s for s in statements if any("Put" in a for a in _as_list(s["Action"]))]
    assert len(writes) == 1
    assert sorted(_as_list(writes[0]["Action"])) == ["s3:AbortMultipartUpload", "s3:PutObject"]
    assert writes[0]["Resource"]["Fn::Sub"].endswith("/incoming/${FunderCode}/*")
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert "*" not in "".join(_as_list(statement["Action"]))


# ---------------------------------------------------------------- emulator vs template


def test_every_table_has_the_keys_indexes_and_ttl_of_the_template(deployed):
    dynamodb = client("dynamodb")
    expected_names = {physical_name(p["TableName"], "test") for p in TEMPLATE_TABLES.values()}
    listed = {
        n for n in dynamodb.list_tables()["TableNames"] if n.startswith("portail-stagiaire-test-")
    }
    assert listed == expected_names
    for properties in TEMPLATE_TABLES.values():
        name = physical_name(properties["TableName"], "test")
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert table["KeySchema"] == properties["KeySchema"], name
        assert sorted(table["AttributeDefinitions"], key=str) == sorted(
            properties["AttributeDefinitions"], key=str
        )
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        indexes = {
            index["IndexName"]: (index["KeySchema"], index["Projection"]["ProjectionType"])
            for index in table.get("GlobalSecondaryIndexes", [])
        }
        assert indexes == {
            index["IndexName"]: (index["KeySchema"], index["Projection"]["ProjectionType"])
            for index in properties.get("GlobalSecondaryIndexes", [])
        }, name
        ttl = dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        if "TimeToLiveSpecification" in properties:
            assert ttl["TimeToLiveStatus"] == "ENABLED", name
            assert ttl["AttributeName"] == properties["TimeToLiveSpecification"]["AttributeName"]
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED", name


def test_outputs_name_every_table_bucket_and_queue(deployed):
    for logical_id, properties in TEMPLATE_TABLES.items():
        assert deployed[f"{logical_id}Name"] == physical_name(properties["TableName"], "test")
    assert deployed["ExchangeBucketName"] == "portail-stagiaire-test-exchange-123456789012"
    assert deployed["DocumentsBucketName"] == "portail-stagiaire-test-documents-123456789012"
    assert deployed["FunderFilesQueueName"] == "portail-stagiaire-test-funder-files"
    assert deployed["FunderFilesDeadLetterQueueName"] == "portail-stagiaire-test-funder-files-dlq"
    assert (
        deployed["FranceConnectSecretName"] == "portail-stagiaire/test/franceconnect-client-secret"
    )
    assert deployed["MailConfigurationSetName"] == "portail-stagiaire-test"
    assert deployed["MailEventsQueueName"] == "portail-stagiaire-test-mail-events"
    assert deployed["MailEventsDeadLetterQueueName"] == "portail-stagiaire-test-mail-events-dlq"
    assert deployed["MailEventsTopicArn"].endswith(":portail-stagiaire-test-mail-events")
    assert deployed["AlarmTopicArn"].endswith(":portail-stagiaire-test-alarms")


def test_buckets_exist_encrypted_and_the_exchange_one_versioned(deployed):
    s3 = client("s3")
    for bucket in (deployed["ExchangeBucketName"], deployed["DocumentsBucketName"]):
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
        assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=deployed["ExchangeBucketName"])["Status"] == "Enabled"


def test_queue_hands_failed_messages_to_the_dead_letter_queue(deployed):
    sqs = client("sqs")
    queue_url = sqs.get_queue_url(QueueName=deployed["FunderFilesQueueName"])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    dlq_url = sqs.get_queue_url(QueueName=deployed["FunderFilesDeadLetterQueueName"])["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    assert attributes["QueueArn"] == deployed["FunderFilesQueueArn"]
    assert attributes["VisibilityTimeout"] == "1800"
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"],
        "maxReceiveCount": 5,
    }


def test_exchange_bucket_notifies_the_queue_of_incoming_files_only(deployed):
    s3, sqs = client("s3"), client("sqs")
    bucket = deployed["ExchangeBucketName"]
    notification = s3.get_bucket_notification_configuration(Bucket=bucket)
    [queue_config] = notification["QueueConfigurations"]
    assert queue_config["QueueArn"] == deployed["FunderFilesQueueArn"]
    assert queue_config["Events"] == ["s3:ObjectCreated:*"]
    assert queue_config["Filter"]["Key"]["FilterRules"] == [
        {"Name": "prefix", "Value": "incoming/"}
    ]

    queue_url = sqs.get_queue_url(QueueName=deployed["FunderFilesQueueName"])["QueueUrl"]
    sqs.purge_queue(QueueUrl=queue_url)  # drops the s3:TestEvent sent when the notification was set
    s3.put_object(Bucket=bucket, Key="reports/demo/x.report.csv", Body=b"report")
    s3.put_object(Bucket=bucket, Key="incoming/demo/paiements_1.csv", Body=b"file")
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    # Event keys are URL-encoded (moto even encodes "/"): handlers must unquote_plus them.
    keys = [
        unquote_plus(r["s3"]["object"]["key"])
        for m in messages
        for r in json.loads(m["Body"])["Records"]
    ]
    assert keys == ["incoming/demo/paiements_1.csv"]


def test_the_configuration_set_sends_bounces_and_complaints_to_the_mail_events_topic():
    # moto's CloudFormation skips SES event destinations: the template itself is checked.
    [destination] = resources_of_type(
        TEMPLATE, "AWS::SES::ConfigurationSetEventDestination"
    ).values()
    assert destination["ConfigurationSetName"] == {"Ref": "MailConfigurationSet"}
    event_destination = destination["EventDestination"]
    assert event_destination["Enabled"] is True
    assert sorted(event_destination["MatchingEventTypes"]) == ["bounce", "complaint"]
    assert event_destination["SnsDestination"] == {"TopicARN": {"Ref": "MailEventsTopic"}}
    [topic] = resources_of_type(TEMPLATE, "AWS::SNS::Topic")["MailEventsTopic"]["Subscription"]
    assert topic == {"Protocol": "sqs", "Endpoint": {"Fn::GetAtt": ["MailEventsQueue", "Arn"]}}


def test_only_ses_for_this_configuration_set_publishes_and_only_the_topic_fills_the_queue():
    [topic_statement] = resources_of_type(TEMPLATE, "AWS::SNS::TopicPolicy")[
        "MailEventsTopicPolicy"
    ]["PolicyDocument"]["Statement"]
    assert topic_statement["Principal"] == {"Service": "ses.amazonaws.com"}
    assert topic_statement["Action"] == "sns:Publish"
    source = topic_statement["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]
    assert source.endswith(":configuration-set/portail-stagiaire-${Stage}")
    assert topic_statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"}
    }
    [queue_statement] = resources_of_type(TEMPLATE, "AWS::SQS::QueuePolicy")[
        "MailEventsQueuePolicy"
    ]["PolicyDocument"]["Statement"]
    assert queue_statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert queue_statement["Action"] == "sqs:SendMessage"
    assert queue_statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Ref": "MailEventsTopic"}}
    }


def test_a_message_published_to_the_mail_events_topic_reaches_its_queue(deployed):
    sqs, sns = client("sqs"), client("sns")
    queue_url = sqs.get_queue_url(QueueName=deployed["MailEventsQueueName"])["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    # AWS asks for a visibility of at least 6 times the function's timeout on an event source.
    config = json.loads((CHALICE_DIR / "config.json").read_text())
    timeout = config["lambda_functions"]["mail_events"]["lambda_timeout"]
    assert int(attributes["VisibilityTimeout"]) >= 6 * timeout
    dlq_url = sqs.get_queue_url(QueueName=deployed["MailEventsDeadLetterQueueName"])["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])
    assert json.loads(attributes["RedrivePolicy"]) == {
        "deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"],
        "maxReceiveCount": 5,
    }

    sns.publish(TopicArn=deployed["MailEventsTopicArn"], Message='{"eventType": "Bounce"}')
    [message] = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    envelope = json.loads(message["Body"])  # no raw delivery: SNS's envelope around the event
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == deployed["MailEventsTopicArn"]
    assert json.loads(envelope["Message"]) == {"eventType": "Bounce"}


def test_creating_the_resources_again_changes_nothing(deployed):
    assert create_resources_in_process(stage="test", region=REGION) == deployed


@pytest.mark.filterwarnings("ignore:Tried to parse:UserWarning")
def test_deploy_script_creates_then_does_nothing_when_nothing_changed(capsys):
    with mock_aws():
        cloudformation = client("cloudformation")
        parameters = {"Stage": "dev", "MailDomain": None, "AlarmEmail": None}
        first = deploy_stack(cloudformation, "portail-stagiaire-dev", MAIN_TEMPLATE, parameters)
        second = deploy_stack(cloudformation, "portail-stagiaire-dev", MAIN_TEMPLATE, parameters)
    assert first["StackStatus"] == second["StackStatus"] == "CREATE_COMPLETE"
    assert "aucun changement" in capsys.readouterr().out


# ---------------------------------------------------------------- the public address


def test_the_distribution_serves_static_files_from_the_bucket_and_the_rest_from_the_stage():
    resources = TEMPLATE["Resources"]
    config = resources["Distribution"]["Properties"]["DistributionConfig"]
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    assert origins["api"]["OriginPath"] == "/api"
    assert origins["api"]["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert origins["assets"]["DomainName"] == {"Fn::GetAtt": ["AssetsBucket", "RegionalDomainName"]}
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "api"
    assert config["DefaultCacheBehavior"]["Compress"] is True
    [static] = config["CacheBehaviors"]
    assert (static["PathPattern"], static["TargetOriginId"], static["Compress"]) == (
        "/static/*",
        "assets",
        True,
    )
    # The ?v= content hash is part of the static files' cache key.
    static_policy = resources["StaticCachePolicy"]["Properties"]["CachePolicyConfig"]
    key = static_policy["ParametersInCacheKeyAndForwardedToOrigin"]["QueryStringsConfig"]
    assert key == {"QueryStringBehavior": "whitelist", "QueryStrings": ["v"]}
    # Pages are never kept, and the mobile API's bearer token reaches the origin.
    api_policy = resources["ApiCachePolicy"]["Properties"]["CachePolicyConfig"]
    assert (api_policy["MinTTL"], api_policy["DefaultTTL"]) == (0, 0)
    headers = api_policy["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]
    assert headers["Headers"] == ["Authorization"]
    # The certificate is a us-east-1 one, a parameter like the domain.
    assert "us-east-1" in TEMPLATE["Parameters"]["CertificateArn"]["AllowedPattern"]
    # The bucket is private: only this distribution reads it.
    assets = resources["AssetsBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(assets.values())


# ---------------------------------------------------------------- Lambda policies


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _committed_policies(stage: str) -> dict[str, dict[str, Any]]:
    return {
        function: json.loads((CHALICE_DIR / policy_file_name(stage, function)).read_text())
        for function in FUNCTIONS
    }


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_policy_files_are_the_generated_ones(stage):
    committed = _committed_policies(stage)
    # The deploy script writes the stack's real mail domain into the SES statement.
    [identity] = {
        arn
        for policy in committed.values()
        for s in policy["Statement"]
        for arn in _as_list(s["Resource"])
        if ":identity/" in arn
    }
    assert committed == lambda_policies(stage, identity.split(":identity/", 1)[1])
    policy_files = {p.name for p in CHALICE_DIR.glob("policy-*.json")}
    assert policy_files == {
        policy_file_name(s, function) for s in ("dev", "prod") for function in FUNCTIONS
    }


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_policy_files_reach_every_table_and_index_of_the_template_and_no_other(stage):
    texts = [
        (CHALICE_DIR / policy_file_name(stage, function)).read_text() for function in FUNCTIONS
    ]
    text = "\n".join(texts)
    assert "dynamodb:Scan" not in text and '"dynamodb:*"' not in text
    prefix = f"table/portail-stagiaire-{stage}-"
    named = set(re.findall(re.escape(prefix) + r"([a-z-]+?)(?:/index/\*)?\"", text))
    template_suffixes = {
        physical_name(p["TableName"], stage).removeprefix(f"portail-stagiaire-{stage}-")
        for p in TEMPLATE_TABLES.values()
    }
    assert named == template_suffixes == set(TABLE_SUFFIXES)
    indexed = {
        physical_name(p["TableName"], stage).removeprefix(f"portail-stagiaire-{stage}-")
        for p in TEMPLATE_TABLES.values()
        if p.get("GlobalSecondaryIndexes")
    }
    assert indexed == set(INDEXED_TABLE_SUFFIXES)
    for function_text in texts:
        assert function_text.count(prefix) <= len(template_suffixes) + len(indexed)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_function_may_consume_its_own_queue_only(stage):
    consumers = {
        function: sorted(
            arn.rsplit(":", 1)[1]
            for s in policy["Statement"]
            if "sqs:ReceiveMessage" in _as_list(s["Action"])
            for arn in _as_list(s["Resource"])
        )
        for function, policy in _committed_policies(stage).items()
    }
    prefix = f"portail-stagiaire-{stage}"
    assert consumers == {
        "api_handler": [],
        "funder_files": [f"{prefix}-funder-files"],
        "notifications": [f"{prefix}-notifications"],
        "security_mails": [f"{prefix}-security-mails"],
        "mail_events": [f"{prefix}-mail-events"],
        "retention": [],  # run by its EventBridge schedule, no queue
    }


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_each_function_writes_only_its_own_log_group(stage):
    for function, policy in _committed_policies(stage).items():
        [logs] = [s for s in policy["Statement"] if s["Sid"] == "WriteLogs"]
        name = f"portail-stagiaire-{stage}" + ("" if function == "api_handler" else f"-{function}")
        group = f"arn:aws:logs:*:*:log-group:/aws/lambda/{name}"
        assert logs["Resource"] == [group, f"{group}:*"], function


# ---------------------------------------------------------------- Chalice config


def test_chalice_config_stages_and_policies():
    config = json.loads((CHALICE_DIR / "config.json").read_text())
    assert config["app_name"] == "portail-stagiaire"
    assert config["autogen_policy"] is False
    assert config["lambda_functions"]["funder_files"]["lambda_timeout"] == 300
    assert set(config["stages"]) == {"local", "test", "dev", "prod"}
    for stage, stage_config in config["stages"].items():
        # Each function its own policy file (the emulator's stages borrow dev's).
        owner = stage if stage in ("dev", "prod") else "dev"
        assert "iam_policy_file" not in stage_config, stage
        assert {
            function: settings["iam_policy_file"]
            for function, settings in stage_config["lambda_functions"].items()
        } == {function: policy_file_name(owner, function) for function in FUNCTIONS}, stage
        assert stage_config["environment_variables"]["STAGE"] == stage
        # Lambda refuses these reserved names in a function's environment.
        if stage in ("dev", "prod"):
            assert not {"AWS_REGION", "AWS_DEFAULT_REGION"} & set(
                stage_config["environment_variables"]
            )


@pytest.mark.parametrize("stage", ["local", "test"])
def test_emulator_stages_environment_matches_the_stack_outputs(stage):
    config = json.loads((CHALICE_DIR / "config.json").read_text())
    environment = config["stages"][stage]["environment_variables"]
    with mock_aws():
        outputs = create_resources_in_process(stage=stage, region=REGION)
    expected = environment_from_outputs(stage, outputs)
    for name in ("TABLE_PREFIX", "EXCHANGE_BUCKET", "DOCUMENTS_BUCKET", "FUNDER_FILES_QUEUE"):
        assert environment[name] == expected[name], name
    for name in set(environment) & set(expected):
        assert environment[name] == expected[name], name
    assert environment["AWS_DEFAULT_REGION"] == REGION


def test_the_template_alarms_on_dead_letters_5xx_throttles_and_lambda_errors() -> None:
    from local.resources import load_template

    alarms = {
        resource["Properties"]["AlarmName"]["Fn::Sub"]
        for resource in load_template()["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert alarms == {
        "portail-stagiaire-${Stage}-funder-files-dlq-not-empty",
        "portail-stagiaire-${Stage}-notifications-dlq-not-empty",
        "portail-stagiaire-${Stage}-security-mails-dlq-not-empty",
        "portail-stagiaire-${Stage}-mail-events-dlq-not-empty",
        "portail-stagiaire-${Stage}-api-5xx",
        "portail-stagiaire-${Stage}-lambda-errors",
        "portail-stagiaire-${Stage}-lambda-throttles",
        "portail-stagiaire-${Stage}-funder-files-oldest-message",
        "portail-stagiaire-${Stage}-notifications-oldest-message",
        "portail-stagiaire-${Stage}-security-mails-oldest-message",
        "portail-stagiaire-${Stage}-mail-events-oldest-message",
    }


def test_lambda_alarms_sum_the_named_metric_of_every_function() -> None:
    """CloudWatch refuses SEARCH in an alarm: each function's metric is named, by the names
    Chalice gives the functions (infra/policy.py)."""
    from infra.policy import function_name

    resources = load_template()["Resources"]
    expected = {function_name("${Stage}", function) for function in FUNCTIONS}
    for name, metric in (("LambdaErrorsAlarm", "Errors"), ("LambdaThrottlesAlarm", "Throttles")):
        metrics = resources[name]["Properties"]["Metrics"]
        stats = [m["MetricStat"] for m in metrics if "MetricStat" in m]
        assert {s["Metric"]["MetricName"] for s in stats} == {metric}
        named = {s["Metric"]["Dimensions"][0]["Value"]["Fn::Sub"] for s in stats}
        assert named == expected, name
        [total] = [m for m in metrics if m.get("ReturnData")]
        summed = total["Expression"].removeprefix("SUM([").removesuffix("])").split(", ")
        assert sorted(summed) == sorted(m["Id"] for m in metrics if "MetricStat" in m), name


def test_the_main_queues_alarm_on_their_oldest_message() -> None:
    resources = load_template()["Resources"]
    watched = {
        resource["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for resource in resources.values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
        and resource["Properties"].get("MetricName") == "ApproximateAgeOfOldestMessage"
    }
    assert watched == {
        "FunderFilesQueue",
        "NotificationsQueue",
        "SecurityMailsQueue",
        "MailEventsQueue",
    }


# ---------------------------------------------------------------- browser uploads (CORS)

# AWS, « Elements of a CORS configuration » (AmazonS3/latest/userguide/ManageCorsUsing.html)
# and the CORSRule API: at most 100 rules; AllowedMethods among GET, PUT, POST, DELETE, HEAD;
# an AllowedOrigin and an AllowedHeader may each hold at most one « * » wildcard; an ID of 255
# characters at most.
S3_CORS_METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD"}
PORTAL_ORIGIN = "https://portail.example.gouv.fr"
UPLOAD_HEADERS = {"content-type"}  # what the page's XMLHttpRequest of a FormData sends


def exchange_cors() -> list[dict[str, Any]]:
    bucket = TEMPLATE["Resources"]["ExchangeBucket"]["Properties"]
    return bucket["CorsConfiguration"]["CorsRules"]


def test_the_exchange_cors_rule_is_valid_for_s3_and_allows_only_the_portals_uploads() -> None:
    rules = exchange_cors()
    assert 1 <= len(rules) <= 100
    for rule in rules:
        assert set(rule["AllowedMethods"]) <= S3_CORS_METHODS
        assert rule["AllowedMethods"] == ["POST"]  # uploads only: no reading, no deleting
        assert len(rule.get("Id", "")) <= 255
        for header in rule.get("AllowedHeaders", []):
            assert header.count("*") <= 1 and header.lower() in UPLOAD_HEADERS
        assert isinstance(rule.get("MaxAge", 0), int)
        (origin,) = rule["AllowedOrigins"]
        condition, with_domain, without_domain = origin["Fn::If"]
        assert condition == "HasCustomDomain"
        # The portal's public address, and nothing else, when the stage has its domain.
        assert with_domain == {"Fn::Sub": "https://${DomainName}"}
        for value in (with_domain["Fn::Sub"], without_domain):
            assert value.count("*") <= 1 and value.startswith("https://")


def test_the_local_stack_applies_the_templates_cors_rule_for_its_own_origin() -> None:
    """local/stack.py puts exactly this on the emulated bucket; moto then answers a browser's
    preflight by it (the funder journey's upload goes through it in Chromium)."""
    from local.resources import exchange_cors_rules

    (template_rule,) = exchange_cors()
    (local_rule,) = exchange_cors_rules(TEMPLATE, "http://localhost:8000")
    assert local_rule == {
        "ID": template_rule["Id"],
        "AllowedMethods": template_rule["AllowedMethods"],
        "AllowedHeaders": template_rule["AllowedHeaders"],
        "MaxAgeSeconds": template_rule["MaxAge"],
        "AllowedOrigins": ["http://localhost:8000"],
    }
    with mock_aws():
        s3 = client("s3")
        s3.create_bucket(
            Bucket="cors-check", CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        s3.put_bucket_cors(Bucket="cors-check", CORSConfiguration={"CORSRules": [local_rule]})
        (stored,) = s3.get_bucket_cors(Bucket="cors-check")["CORSRules"]
        assert stored["AllowedOrigins"] == ["http://localhost:8000"]
        assert stored["AllowedMethods"] == ["POST"]
