"""« Mes messages » in the JSON API: the trainee's side, with the same rules as the pages."""

from __future__ import annotations

import pytest

from chalicelib.api.messages import BAD_CURSOR
from local.demo import READY, READY_STAFF
from tests.support.api import Api
from tests.support.aws import count_dynamodb_requests
from tests.support.messages import IDF_TRAINING, answer, claire, set_messages, start_thread
from tests.support.web import WebClient


@pytest.fixture
def camille(messages_on: WebClient) -> WebClient:
    return messages_on


@pytest.fixture
def api(camille: WebClient) -> Api:
    return Api(camille.client)


def token_of(api: Api, email: str = READY.email, password: str = READY.password) -> str:
    answer = api.log_in(email, password)
    assert answer.status == 201, answer.body
    return answer.json["token"]


def test_a_trainee_lists_starts_reads_and_answers_threads(api: Api, camille: WebClient) -> None:
    token = token_of(api)
    listing = api.call("GET", "/api/v1/messages/threads", token=token)
    assert listing.status == 200 and listing.json["threads"] == []
    assert [t["key"] for t in listing.json["trainings"]] == [IDF_TRAINING]
    started = api.call(
        "POST",
        "/api/v1/messages/threads",
        {"training": IDF_TRAINING, "subject": "Attestation", "text": "Bonjour\nMerci"},
        token,
    )
    assert started.status == 201, started.body
    thread = started.json["thread"]
    assert thread["subject"] == "Attestation" and thread["organisation_name"]
    assert thread["messages"][0]["text"] == "Bonjour\nMerci"
    assert thread["messages"][0]["read_by_recipient"] is False

    staff = claire(camille)
    answer(staff, "/organisme/messages/fil", thread["id"], "Voici")
    count = api.call("GET", "/api/v1/messages/unread-count", token=token)
    assert (count.status, count.json) == (200, {"unread": 1})
    listing = api.call("GET", "/api/v1/messages/threads", token=token).json
    assert (
        listing["threads"][0]["unread"] == 1
        and listing["threads"][0]["last_from"] == "organisation"
    )
    read = api.call("GET", f"/api/v1/messages/threads/{thread['id']}", token=token).json["thread"]
    assert [m["from"] for m in read["messages"]] == ["trainee", "organisation"]
    assert read["messages"][1]["unread"] is True and read["messages"][0]["read_by_recipient"]
    assert api.call("GET", "/api/v1/messages/unread-count", token=token).json == {"unread": 0}
    replied = api.call(
        "POST", f"/api/v1/messages/threads/{thread['id']}/messages", {"text": "Merci !"}, token
    )
    assert replied.status == 201
    assert replied.json["thread"]["messages"][-1]["text"] == "Merci !"


def test_limits_and_ownership_answer_in_the_error_shape(api: Api, camille: WebClient) -> None:
    token = token_of(api)
    wrong = api.call(
        "POST",
        "/api/v1/messages/threads",
        {"training": "region-hdf~HDF-2026-000042", "subject": "a" * 151, "text": ""},
        token,
    )
    assert (wrong.status, wrong.error["code"]) == (400, "validation_failed")
    assert set(wrong.error["fields"]) == {"training", "subject", "text"}
    missing = api.call("POST", "/api/v1/messages/threads", {"training": IDF_TRAINING}, token)
    assert (missing.status, missing.error["code"]) == (400, "invalid_request")
    thread_id = start_thread(camille)
    staff_token = token_of(api, READY_STAFF.email, READY_STAFF.password)
    for path in ("/api/v1/messages/threads", f"/api/v1/messages/threads/{thread_id}"):
        answer_ = api.call("GET", path, token=staff_token)
        assert (answer_.status, answer_.error["code"]) == (403, "trainees_only")
    unknown = api.call("GET", "/api/v1/messages/threads/" + "0" * 32, token=token)
    assert (unknown.status, unknown.error["code"]) == (404, "not_found")
    assert api.call("GET", "/api/v1/messages/unread-count").status == 401
    not_ours = api.call("GET", "/api/v1/messages/threads?before=" + "x" * 201, token=token)
    assert (not_ours.status, not_ours.error["code"]) == (400, "invalid_request")
    assert not_ours.error["fields"] == {"before": BAD_CURSOR}


def test_without_a_funder_that_enables_messages_the_routes_are_404(
    api: Api, camille: WebClient
) -> None:
    thread_id = start_thread(camille)
    token = token_of(api)
    set_messages(False)
    for method, path, body in (
        ("GET", "/api/v1/messages/threads", None),
        (
            "POST",
            "/api/v1/messages/threads",
            {"training": IDF_TRAINING, "subject": "x", "text": "y"},
        ),
        ("GET", f"/api/v1/messages/threads/{thread_id}", None),
        ("POST", f"/api/v1/messages/threads/{thread_id}/messages", {"text": "y"}),
    ):
        assert api.call(method, path, body, token).status == 404, path
    assert api.call("GET", "/api/v1/messages/unread-count", token=token).json == {"unread": 0}


def test_api_reads_cost_at_most_three_dynamodb_requests(api: Api, camille: WebClient) -> None:
    thread_id = start_thread(camille)
    answer(claire(camille), "/organisme/messages/fil", thread_id, "Réponse")
    token = token_of(api)
    api.call("GET", "/api/v1/messages/threads", token=token)  # warm the minute-long caches
    for path in (
        "/api/v1/messages/unread-count",
        "/api/v1/messages/threads",
        f"/api/v1/messages/threads/{thread_id}",  # unread: marks it read
        f"/api/v1/messages/threads/{thread_id}",
    ):
        with count_dynamodb_requests() as requests:
            assert api.call("GET", path, token=token).status == 200
        assert sum(requests.values()) <= 3, (path, requests)
