"""The exchange bucket's reading of « which version is now at this key », against S3's answers."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from chalicelib.adapters.exchange import ExchangeBucket

KEY = "incoming/region-idf/paiements_x.csv"


def stubbed() -> tuple[ExchangeBucket, Stubber]:
    client = boto3.client(
        "s3", region_name="eu-west-3", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return ExchangeBucket(client, "exchange"), Stubber(client)


@pytest.mark.parametrize("status", [403, 404])
def test_a_deleted_key_has_no_current_version(status: int) -> None:
    """HeadObject answers a missing key with 404, or with 403 to a role without s3:ListBucket
    (the ingestion role has none: infra/policy.py), with no body, so its code is the status
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html)."""
    exchange, stubber = stubbed()
    stubber.add_client_error(
        "head_object",
        service_error_code=str(status),
        http_status_code=status,
        expected_params={"Bucket": "exchange", "Key": KEY},
    )
    with stubber:
        assert exchange.current_version(KEY) is None


def test_the_current_version_is_named_by_its_version_id_and_other_errors_rise() -> None:
    exchange, stubber = stubbed()
    stubber.add_response(
        "head_object",
        {"VersionId": "v2", "ETag": '"e"', "LastModified": "2026-12-06T10:30:05Z"},
        {"Bucket": "exchange", "Key": KEY},
    )
    stubber.add_client_error("head_object", service_error_code="500", http_status_code=500)
    with stubber:
        assert exchange.current_version(KEY) == "v2"
        with pytest.raises(ClientError):
            exchange.current_version(KEY)
