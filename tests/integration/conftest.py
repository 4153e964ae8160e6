"""Fixtures for handler tests: a funder with its demo dossiers, published CGU, a web client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from chalice.test import Client

from chalicelib.container import get_container
from chalicelib.services.funders import Funder, save_funder
from local.outbox import body_text, sent_messages
from tests.conftest import TEST_ENVIRONMENT
from tests.support.aws import drop, run_queue
from tests.support.web import WebClient

DEMO = Path(__file__).resolve().parents[2] / "local" / "demo"
CAPTCHA = TEST_ENVIRONMENT["CAPTCHA_TEST_ANSWER"]


@pytest.fixture
def portal(aws: dict[str, str]) -> Iterator[WebClient]:
    """Région Île-de-France with its demo dossiers, CGU version 1, and a browser-like client."""
    boto3.client("ses").verify_domain_identity(
        Domain=TEST_ENVIRONMENT["MAIL_SENDER"].rpartition("@")[2]
    )
    container = get_container()
    save_funder(container.funders, Funder("region-idf", "Région Île-de-France"))
    drop("region-idf", "dossiers_demo.csv", (DEMO / "dossiers_region-idf.csv").read_bytes())
    run_queue()
    container.terms.publish("1", (DEMO / "cgu-v1.txt").read_text(encoding="utf-8"))
    import app as portal_app

    with Client(portal_app.app, stage_name="test") as client:
        yield WebClient(client)


def mails_to(address: str) -> list[tuple[str, str]]:
    """(subject, text) of every mail sent to that address, oldest first."""
    return [
        (str(message["Subject"]), body_text(message))
        for message in sent_messages(TEST_ENVIRONMENT["AWS_REGION"])
        if address in str(message["To"])
    ]
