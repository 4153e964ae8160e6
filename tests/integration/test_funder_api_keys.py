"""The funders' API key under moto: the operator's command prints it once, the guard of
`/api/v1/funder/…` accepts it, refuses it once revoked, and throttles wrong keys."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from chalice.app import Request

from chalicelib import admin
from chalicelib.api.funder_auth import authenticate_funder
from chalicelib.api.responses import ApiError
from chalicelib.container import get_container
from chalicelib.services.funders.api_keys import MAX_FAILURES
from chalicelib.services.funders.model import Funder, save_funder
from chalicelib.store.models import AuditItem, FunderTableItem


def request(headers: dict[str, str], ip: str = "192.0.2.10") -> Request:
    event: dict[str, Any] = {
        "multiValueQueryStringParameters": None,
        "headers": headers,
        "pathParameters": None,
        "requestContext": {
            "httpMethod": "GET",
            "resourcePath": "/api/v1/funder/files",
            "path": "/api/v1/funder/files",
            "identity": {"sourceIp": ip},
        },
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
    }
    return Request(event)


def create_key(capsys: pytest.CaptureFixture[str], funder: str = "region-idf") -> str:
    assert admin.main(["--stage", "test", "funder", "api-key", "--funder", funder]) == 0
    return next(line for line in capsys.readouterr().out.splitlines() if line.startswith("pfk_"))


@pytest.fixture
def funders(aws: dict[str, str]) -> None:
    save_funder(get_container().funders, Funder("region-idf", "Région Île-de-France"))
    save_funder(get_container().funders, Funder("region-hdf", "Région Hauts-de-France"))


def test_the_operator_gets_a_key_once_and_only_its_hash_is_stored(
    funders: None, capsys: pytest.CaptureFixture[str]
) -> None:
    key = create_key(capsys)
    key_id = key.split("_")[1]
    stored = FunderTableItem.get("api-key", key_id)
    assert stored.secret_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(stored.attribute_values)
    client = authenticate_funder(request({"authorization": f"Bearer {key}"}))
    assert client.funder_code == "region-idf"
    assert authenticate_funder(request({"x-api-key": key})).funder_code == "region-idf"
    # The use is in the audit trail, with the route and the address.
    used = [item for item in AuditItem.query(f"funder-api-key#{key_id}")]
    assert [item.event for item in used] == ["funder-api-key-created"] + ["funder-api-key-used"] * 2
    assert used[-1].client_ip == "192.0.2.10"
    assert used[-1].details.as_dict()["route"] == "GET /api/v1/funder/files"
    listing = ["--stage", "test", "funder", "api-key", "--funder", "region-idf", "--list"]
    assert admin.main(listing) == 0
    assert f"{key_id}  créée le" in capsys.readouterr().out


def test_a_revoked_key_gets_401(funders: None, capsys: pytest.CaptureFixture[str]) -> None:
    key = create_key(capsys)
    key_id = key.split("_")[1]
    arguments = ["--stage", "test", "funder", "api-key"]
    assert admin.main([*arguments, "--funder", "region-hdf", "--revoke", key_id]) == 2
    assert authenticate_funder(request({"authorization": f"Bearer {key}"})).key_id == key_id
    assert admin.main([*arguments, "--funder", "region-idf", "--revoke", key_id]) == 0
    with pytest.raises(ApiError) as refused:
        authenticate_funder(request({"authorization": f"Bearer {key}"}))
    assert refused.value.status_code == 401
    assert 'error="invalid_token"' in refused.value.headers["WWW-Authenticate"]
    assert "révoquée" in refused.value.message


def test_an_unknown_funder_gets_no_key(funders: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert admin.main(["--stage", "test", "funder", "api-key", "--funder", "region-xx"]) == 2
    assert "Financeur inconnu" in capsys.readouterr().err


def test_wrong_keys_from_one_address_are_throttled(
    funders: None, capsys: pytest.CaptureFixture[str]
) -> None:
    key = create_key(capsys)
    for _ in range(MAX_FAILURES):
        with pytest.raises(ApiError) as refused:
            authenticate_funder(request({"authorization": "Bearer pfk_nope"}))
        assert refused.value.status_code == 401
    with pytest.raises(ApiError) as throttled:
        authenticate_funder(request({"authorization": f"Bearer {key}"}))
    assert throttled.value.status_code == 429 and throttled.value.headers["Retry-After"]
    assert authenticate_funder(request({"authorization": f"Bearer {key}"}, ip="192.0.2.11"))
