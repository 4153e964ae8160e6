"""A presigned upload, posted as a browser posts it to the local emulator, which checks POST
policies as S3 does (local/post_policy.py; moto alone stores anything): it cannot write outside
its prefix, exceed the size limit, change the sender, or be used after it expires. Each of these
tests fails against a forgiving emulator (moto as it is)."""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
import requests

from chalicelib.adapters.exchange import ExchangeBucket
from chalicelib.services.funders.uploads import FunderUploads, PresignedUpload
from local.emulator import AtomicMotoServer
from local.post_policy import PolicyRefusal, check_post

SECRET = "post-policy-secret"
BUCKET = ""
PAYMENTS = b"numero_dossier;reference_paiement\nD-1;P-1\n"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def s3() -> Iterator[object]:
    port = free_port()
    server = AtomicMotoServer(ip_address="127.0.0.1", port=port, post_policy_secret=SECRET)
    server.start()
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="eu-west-3",
        aws_access_key_id="local",
        aws_secret_access_key=SECRET,
    )
    # moto's backends live as long as the process: each test has a bucket of its own.
    global BUCKET
    BUCKET = f"portail-stagiaire-test-exchange-{uuid.uuid4().hex[:12]}"
    client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"}
    )
    try:
        yield client
    finally:
        server.stop()


def prepare(s3: object, file_name: str | None = "paiements_12.csv", **kwargs) -> PresignedUpload:
    uploads = FunderUploads(ExchangeBucket(s3, BUCKET), lambda: datetime.now(UTC))
    return uploads.prepare("region-idf", file_name, "agent@region-idf.fr", "203.0.113.9", **kwargs)


def post(upload: PresignedUpload, content: bytes = PAYMENTS, name: str = "x.csv", **changed):
    fields = {**upload.fields, **changed}
    return requests.post(
        upload.url, data=fields, files={"file": (name, content, "text/csv")}, timeout=10
    )


def keys(s3) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_a_presigned_upload_stores_the_file_under_the_prefix_with_its_sender(s3) -> None:
    upload = prepare(s3)
    folder, name = upload.key.removeprefix("incoming/region-idf/").split("/")
    assert re.fullmatch(r"[0-9a-f]{32}", folder) and name == "paiements_12.csv"
    answer = post(upload)
    assert answer.status_code == 201, answer.text
    assert keys(s3) == [upload.key]
    head = s3.head_object(Bucket=BUCKET, Key=upload.key)
    assert head["Metadata"] == {"sender": "agent@region-idf.fr", "client-ip": "203.0.113.9"}


def test_it_cannot_write_outside_its_prefix(s3) -> None:
    upload = prepare(s3)
    other = prepare(s3)  # another upload of the same name: its own folder
    for key in (
        "incoming/region-hdf/paiements_12.csv",
        "incoming/region-idf/paiements_12.csv",
        other.key,
        "reports/region-idf/x.csv",
        "x.csv",
    ):
        answer = post(upload, key=key)
        assert answer.status_code == 403 and "Policy Condition failed" in answer.text, key
    assert keys(s3) == []


def test_it_cannot_exceed_the_size_limit(s3) -> None:
    url, fields = ExchangeBucket(s3, BUCKET).presigned_post(
        "incoming/region-idf/paiements_12.csv", "incoming/region-idf/", 64, "text/csv", 60, {}
    )
    upload = PresignedUpload(url, fields, datetime.now(UTC), "k", 64)
    answer = post(upload, content=b"x" * 65)
    assert answer.status_code == 400 and "EntityTooLarge" in answer.text
    assert post(upload, content=b"x" * 64).status_code == 204
    assert keys(s3) == ["incoming/region-idf/paiements_12.csv"]


def test_it_cannot_claim_another_sender_nor_add_a_field(s3) -> None:
    upload = prepare(s3)
    assert post(upload, **{"x-amz-meta-sender": "quelqu.un@ailleurs.fr"}).status_code == 403
    assert post(upload, **{"x-amz-meta-role": "gestionnaire"}).status_code == 403
    assert post(upload, **{"Content-Type": "text/html"}).status_code == 403
    assert keys(s3) == []


def test_it_cannot_be_used_after_it_expires(s3) -> None:
    url, fields = ExchangeBucket(s3, BUCKET).presigned_post(
        "incoming/region-idf/paiements_12.csv", "incoming/region-idf/", 64, "text/csv", 1, {}
    )
    time.sleep(1.1)
    answer = post(PresignedUpload(url, fields, datetime.now(UTC), "k", 64))
    assert answer.status_code == 403 and "Policy expired" in answer.text
    assert keys(s3) == []
    # The same rule, without waiting: any time at or after the expiration is refused.
    later = datetime.now(UTC) + timedelta(minutes=11)
    refusal = check_post(prepare(s3).fields, "x.csv", 10, BUCKET, later, SECRET)
    assert isinstance(refusal, PolicyRefusal) and refusal.code == "AccessDenied"


def test_a_tampered_policy_is_refused(s3) -> None:
    upload = prepare(s3)
    import base64
    import json

    policy = json.loads(base64.b64decode(upload.fields["policy"]))
    policy["conditions"][0] = ["starts-with", "$key", ""]
    forged = base64.b64encode(json.dumps(policy).encode()).decode()
    answer = post(upload, policy=forged, key="reports/region-idf/x.csv")
    assert answer.status_code == 403 and "SignatureDoesNotMatch" in answer.text


def test_the_no_javascript_form_takes_the_browsers_file_name_and_redirects(s3) -> None:
    upload = prepare(s3, None, redirect_url="http://localhost:8000/financeur/fichiers?envoi=ok")
    answer = requests.post(
        upload.url,
        data=upload.fields,
        files={"file": ("dossiers_decembre.csv", PAYMENTS, "text/csv")},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["Location"].startswith("http://localhost:8000/financeur/fichiers?")
    assert keys(s3) == [upload.key.replace("${filename}", "dossiers_decembre.csv")]
