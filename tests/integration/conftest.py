"""Fixtures for handler tests: a funder with its demo dossiers, published CGU, a web client; and
every demo file with the ready demo account (« Mes formations », browser and API)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from chalice.test import Client

from chalicelib.container import get_container
from chalicelib.services.funders.model import Funder, save_funder
from local.demo import DEMO_DIR, TERMS_VERSION, create_ready_account
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


@pytest.fixture
def demo_data(portal: WebClient) -> WebClient:
    """Every demo file loaded (two funders, their dossiers and payments), the demo CGU current and
    the ready demo account (Camille MARTIN, two trainings) created; nobody signed in."""
    container = get_container()
    save_funder(container.funders, Funder("region-hdf", "Région Hauts-de-France"))
    drop(
        "region-hdf", "dossiers_region-hdf.csv", (DEMO_DIR / "dossiers_region-hdf.csv").read_bytes()
    )
    run_queue()
    for funder_code in ("region-idf", "region-hdf"):
        name = f"paiements_{funder_code}.csv"
        drop(funder_code, name, (DEMO_DIR / name).read_bytes())
    run_queue()
    container.terms.publish(TERMS_VERSION, "# CGU\n\nVersion de démonstration.")
    create_ready_account()
    return portal


def mails_to(address: str) -> list[tuple[str, str]]:
    """(subject, text) of every mail sent to that address, oldest first."""
    return [
        (str(message["Subject"]), body_text(message))
        for message in sent_messages(TEST_ENVIRONMENT["AWS_REGION"])
        if address in str(message["To"])
    ]


@pytest.fixture
def messages_on(demo_data: WebClient) -> WebClient:
    """« Mes messages »: the demo data with messages enabled at region-idf (not at region-hdf),
    the demo staff account of Camille's organisation, and Camille signed in."""
    from local.demo import READY, create_ready_staff_account
    from tests.support.messages import set_messages

    set_messages(True)
    create_ready_staff_account()
    home = demo_data.get("/region-idf/")
    page = demo_data.post(
        "/region-idf/connexion",
        {"csrf": home.hidden("csrf"), "username": READY.email, "password": READY.password},
    )
    assert page.location == "/formations"
    return demo_data
