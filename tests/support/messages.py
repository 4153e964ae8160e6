"""« Mes messages » for handler tests: the funder setting, both sides' logins, and writing."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from chalicelib.container import get_container
from chalicelib.services.funders.model import Funder, save_funder
from local.demo import READY_STAFF
from tests.support.web import Page, WebClient

IDF_TRAINING = "region-idf~IDF-2017-000123"
ORGANISATION_MAIL = "contact@ifn.example.fr"
IDF = Funder("region-idf", "Région Île-de-France", messages_enabled=True)


def set_messages(enabled: bool) -> None:
    """The operator's `funder set region-idf --messages oui|non`, seen at once by the pages (as
    once their five-minute cache has expired)."""
    container = get_container()
    save_funder(container.funders, Funder(IDF.code, IDF.name, messages_enabled=enabled))
    container.trainings._funder_cache = None


def other_browser(web: WebClient) -> WebClient:
    return WebClient(web.client, source_ip="192.0.2.20")


def staff_log_in(web: WebClient, email: str = READY_STAFF.email, password: str = "") -> Page:
    home = web.get("/organisme/")
    assert home.status == 200 and "Espace des organismes de formation" in home.text
    return web.post(
        "/organisme/connexion",
        {
            "csrf": home.hidden("csrf"),
            "username": email,
            "password": password or READY_STAFF.password,
        },
    )


def claire(web: WebClient) -> WebClient:
    staff = other_browser(web)
    assert staff_log_in(staff).location == "/organisme/messages"
    return staff


def start_thread(
    web: WebClient, subject: str = "Attestation de présence", text: str = "Bonjour"
) -> str:
    form = web.get("/messages/nouveau")
    assert form.status == 200
    page = web.post(
        "/messages/nouveau",
        {"csrf": form.hidden("csrf"), "training": IDF_TRAINING, "subject": subject, "text": text},
    )
    assert page.status == 303, page.text
    return thread_id_of(page.location)


def thread_id_of(location: str) -> str:
    return parse_qs(urlparse(location).query)["id"][0]


def answer(web: WebClient, path: str, thread_id: str, text: str) -> Page:
    page = web.get(f"{path}?id={thread_id}")
    return web.post(path, {"csrf": page.hidden("csrf"), "id": thread_id, "text": text})


def badge(page: Page) -> str:
    """The header's tools, as read aloud."""
    match = re.search(r'<div class="fr-header__tools">(.*?)</div>\s*</div>', page.body, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else ""
