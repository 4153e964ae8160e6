"""A signed-in page reads its session and the current CGU version in one BatchGetItem
(store/sessions.py). AWS, BatchGetItem: a partial result is no error (« If a partial result is
returned, the operation returns a value for UnprocessedKeys »), and « If DynamoDB returns any
unprocessed items, you should retry the batch operation on those items [...] use an exponential
backoff algorithm » (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/
API_BatchGetItem.html). moto always answers every key, so these tests make DynamoDB's answer
partial by a patch of the call, and check the read retries only the keys left, with a growing
delay, and gives up after a few tries as « service indisponible » (503), not a crash (500)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from pynamodb.connection.base import Connection

from chalicelib.adapters import unavailability
from chalicelib.container import get_container
from chalicelib.store import sessions as session_store
from chalicelib.store.models import SessionItem
from local.demo import READY
from tests.integration.test_accounts_web import log_in
from tests.support.web import WebClient


@contextmanager
def sessions_left_unprocessed(times: int) -> Iterator[list[dict[str, Any]]]:
    """The next `times` BatchGetItem answers leave the sessions table's keys unprocessed (the
    other table's item is answered); the requests made, for the test to read."""
    original = Connection._make_api_call
    requests: list[dict[str, Any]] = []
    sessions = SessionItem.Meta.table_name

    def partial(self: Connection, operation: str, kwargs: dict[str, Any], *a: Any, **k: Any):
        answer = original(self, operation, kwargs, *a, **k)
        if operation != "BatchGetItem":
            return answer
        requests.append(kwargs["RequestItems"])
        if len(requests) > times or sessions not in kwargs["RequestItems"]:
            return answer
        responses = {t: items for t, items in answer["Responses"].items() if t != sessions}
        return {
            "Responses": responses,
            "UnprocessedKeys": {sessions: kwargs["RequestItems"][sessions]},
        }

    with mock.patch.object(Connection, "_make_api_call", partial):
        yield requests


@pytest.fixture
def signed_in(demo_data: WebClient) -> tuple[WebClient, str]:
    page = log_in(demo_data, READY.email, READY.password)
    assert page.location == "/formations"
    (item,) = [i for i in SessionItem.scan() if i.kind == "trainee"]
    return demo_data, item.token_hash


def test_unprocessed_keys_are_read_again_and_only_they(
    signed_in: tuple[WebClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _web, token_hash = signed_in
    store = session_store.DynamoSessionRepository()
    expected = store.get_with_current_terms(token_hash)
    assert expected[0] is not None and expected[1] is not None
    delays: list[float] = []
    monkeypatch.setattr(session_store.time, "sleep", delays.append)
    with sessions_left_unprocessed(times=2) as requests:
        assert store.get_with_current_terms(token_hash) == expected
    assert len(requests) == 3
    assert len(requests[0]) == 2  # both tables at first
    assert all(list(request) == [SessionItem.Meta.table_name] for request in requests[1:])
    assert delays == [0.05, 0.1]  # exponential backoff


def test_it_gives_up_cleanly_as_service_unavailable(
    signed_in: tuple[WebClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    web, token_hash = signed_in
    monkeypatch.setattr(session_store.time, "sleep", lambda _seconds: None)
    unavailability.forget()
    with (
        sessions_left_unprocessed(times=100) as requests,
        pytest.raises(session_store.BatchReadIncomplete),
    ):
        get_container().session_with_terms(token_hash)
    assert len(requests) == session_store.BATCH_GET_ATTEMPTS
    assert unavailability.cause() is not None
    unavailability.forget()

    # The page: « Service momentanément indisponible » (503), never the session taken as gone.
    # (The CGU version is kept a minute in memory: made stale, the page reads it with the
    # session, in the BatchGetItem.)
    monkeypatch.setattr(get_container().terms, "stale", lambda: True)
    with sessions_left_unprocessed(times=100):
        page = web.get("/formations")
    assert page.status == 503 and "Service momentanément indisponible" in page.text
