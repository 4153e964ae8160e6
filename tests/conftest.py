"""Shared fixtures. The environment of the `test` stage is set before anything imports the app."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from local.test_stage import TEST_ENVIRONMENT

os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)
os.environ.update(TEST_ENVIRONMENT)

# As on Lambda, where `import app` runs before any AWS client exists: every botocore client the
# tests create (PynamoDB's included, which outlive one test) reports AWS unavailability, whether or
# not an earlier test imported the app first.
from chalicelib.adapters import unavailability

unavailability.install()


# moto's mock swaps in its own fake credentials while it is active (a module's `aws` fixture
# may outlive one test) and puts ours back when it ends.
MOTO_CREDENTIALS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}


@pytest.fixture(autouse=True)
def test_environment_kept() -> Iterator[None]:
    """Fails the test that leaves the tests' environment changed (`admin.main` without `--stage
    test` loads the local stage's table names for every later test), and puts it back so that
    the failure stays with that test."""
    yield
    changed = {
        key: os.environ.get(key)
        for key, value in TEST_ENVIRONMENT.items()
        if key not in MOTO_CREDENTIALS and os.environ.get(key) != value
    }
    os.environ.update({k: v for k, v in TEST_ENVIRONMENT.items() if k not in MOTO_CREDENTIALS})
    assert not changed, f"the test changed the tests' environment: {changed}"


@pytest.fixture
def aws() -> Iterator[dict[str, str]]:
    """A fresh emulated AWS account holding every resource of infra/template.yaml."""
    from moto import mock_aws

    from chalicelib.container import reset_container
    from local.resources import create_resources_in_process

    reset_container()
    with mock_aws():
        outputs = create_resources_in_process(stage="test", region=TEST_ENVIRONMENT["AWS_REGION"])
        _drop_s3_test_event()
        yield outputs
    reset_container()


def _drop_s3_test_event() -> None:
    """S3 sends an "s3:TestEvent" when a notification is set up; tests start from an empty queue."""
    import boto3

    sqs = boto3.client("sqs")
    sqs.purge_queue(
        QueueUrl=sqs.get_queue_url(QueueName=TEST_ENVIRONMENT["FUNDER_FILES_QUEUE"])["QueueUrl"]
    )
