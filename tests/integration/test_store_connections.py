"""How PynamoDB reaches DynamoDB (chalicelib/store/connections.py): the session's data loader
looks in DynamoDB's directory only, and finds there what botocore's own loader finds."""

from __future__ import annotations

import os

import botocore.loaders
import botocore.session
import pytest
from botocore.exceptions import UnknownServiceError

from chalicelib.store.connections import DynamoDBLoader, dynamodb_session


def test_the_loader_knows_dynamodb_as_botocore_does_and_lists_no_other_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listed: list[str] = []
    real_listdir = os.listdir

    def counting_listdir(path: str) -> list[str]:
        listed.append(path)
        return real_listdir(path)

    ours = dynamodb_session().get_component("data_loader")
    monkeypatch.setattr(os, "listdir", counting_listdir)
    assert isinstance(ours, DynamoDBLoader)
    assert ours.list_available_services("service-2") == ["dynamodb"]
    assert ours.list_available_services("endpoint-rule-set-1") == ["dynamodb"]
    assert all(path.rstrip("/").endswith("dynamodb") for path in listed), listed
    monkeypatch.setattr(os, "listdir", real_listdir)
    botocores = botocore.loaders.create_loader()
    for type_name in ("service-2", "endpoint-rule-set-1"):
        assert "dynamodb" in botocores.list_available_services(type_name)
        assert ours.load_service_model("dynamodb", type_name) == botocores.load_service_model(
            "dynamodb", type_name
        )


def test_a_dynamodb_client_is_made_and_any_other_service_is_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)  # the real endpoint, not the emulator's
    session = dynamodb_session()
    client = session.create_client("dynamodb", region_name="eu-west-3")
    assert client.meta.service_model.service_name == "dynamodb"
    assert client.meta.endpoint_url == "https://dynamodb.eu-west-3.amazonaws.com"
    with pytest.raises(UnknownServiceError):
        session.create_client("s3", region_name="eu-west-3")


def test_the_loader_searches_aws_data_path_first_like_botocores(
    monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]
) -> None:
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    loader = dynamodb_session().get_component("data_loader")
    assert loader.search_paths[0] == str(tmp_path)
    assert (
        loader.search_paths
        == botocore.session.get_session().get_component("data_loader").search_paths
    )
