"""« Fichiers », a report and « Tableau de bord » in the funders' space, under moto: the manager
gets an upload form limited to its prefix (and a CSP that lets it reach the bucket), follows a file
to « traité », filters and downloads its report; « consultation » reads but cannot send (403);
another funder's staff gets « page non trouvée » for the same file."""

from __future__ import annotations

import base64
import json
import re
from html import unescape
from urllib.parse import urlsplit

import pytest

from chalicelib.container import get_container
from tests.integration.test_funder_space_web import (
    MANAGER,
    OTHER,
    VIEWER,
    Staff,
    another_browser,
    first_login,
    invite,
)
from tests.support.aws import drop, run_queue
from tests.support.web import WebClient

PAYMENTS = (
    b"numero_dossier;reference_paiement;date_mise_en_paiement;periode_debut;periode_fin;element;"
    b"montant\nINCONNU;P-1;20/03/2018;16/10/2017;31/10/2017;REMUNERATION;144,85\n"
)


@pytest.fixture
def staff(space: WebClient) -> dict[str, Staff]:
    invite(MANAGER, "region-idf", "gestionnaire")
    invite(VIEWER, "region-idf", "consultation")
    invite(OTHER, "region-hdf", "gestionnaire")
    return {
        "manager": first_login(space, MANAGER),
        "viewer": first_login(another_browser(), VIEWER),
        "other": first_login(another_browser(), OTHER),
    }


@pytest.fixture
def space(portal: WebClient) -> WebClient:
    from chalicelib.services.funders.model import Funder, save_funder

    save_funder(get_container().funders, Funder("region-hdf", "Région Hauts-de-France"))
    return portal


def hidden_fields(body: str) -> dict[str, str]:
    return {
        name: unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', body)
    }


def test_the_manager_sends_follows_and_reads_a_report(staff: dict[str, Staff]) -> None:
    web = staff["manager"].web
    page = web.get("/financeur/fichiers")
    assert page.status == 200 and "Envoyer un fichier" in page.text
    fields = hidden_fields(page.body)
    policy = json.loads(base64.b64decode(fields["policy"]))
    folder = re.fullmatch(r"incoming/region-idf/([0-9a-f]{32})/\$\{filename\}", fields["key"])
    assert folder, fields["key"]  # each upload in a folder of its own
    assert ["starts-with", "$key", f"incoming/region-idf/{folder.group(1)}/"] in policy[
        "conditions"
    ]
    assert fields["success_action_redirect"].endswith("/financeur/fichiers?envoi=ok")
    assert fields["x-amz-meta-sender"] == MANAGER
    # The page's CSP lets its form and script reach the bucket, and no other origin.
    action = re.search(r'<form id="envoi" method="post" action="([^"]+)"', page.body)
    assert action is not None
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(unescape(action.group(1))))
    csp = page.headers["Content-Security-Policy"]
    assert f"connect-src 'self' {origin};" in csp and csp.endswith(f"form-action 'self' {origin}")
    # The script's own form for a named file; a name the portal would not read is refused.
    prepared = web.post(
        "/financeur/fichiers/envoi", {"csrf": page.hidden("csrf"), "file_name": "x.txt"}
    )
    assert prepared.status == 200 and "dossiers_….csv" in json.loads(prepared.body)["error"]
    prepared = web.post(
        "/financeur/fichiers/envoi", {"csrf": page.hidden("csrf"), "file_name": "paiements_12.csv"}
    )
    assert prepared.status == 201 and re.fullmatch(
        r"incoming/region-idf/[0-9a-f]{32}/paiements_12\.csv",
        json.loads(prepared.body)["fields"]["key"],
    )
    drop("region-idf", "paiements_12.csv", PAYMENTS)
    run_queue()
    status = json.loads(web.get("/financeur/fichiers/etat").body)["files"]
    mine = next(item for item in status if item["name"] == "paiements_12.csv")
    assert mine["status"] == "traité" and mine["finished"]
    listing = web.get("/financeur/fichiers")
    assert "paiements_12.csv" in listing.text and "dépôt direct" in listing.text
    report = web.get(f"/financeur/fichiers/rapport?id={mine['id']}&colonne=numero_dossier")
    assert report.status == 200 and "dossier INCONNU" in report.text
    assert (
        "Aucune ligne rejetée pour ce filtre"
        in web.get(f"/financeur/fichiers/rapport?id={mine['id']}&colonne=montant").text
    )
    download = web.get(f"/financeur/fichiers/rapport/telechargement?id={mine['id']}")
    assert download.status == 303 and "paiements_12.csv.report.csv" in download.location
    board = web.get("/financeur/tableau-de-bord")
    assert board.status == 200 and "Tableau de bord" in board.text


def test_consultation_reads_but_cannot_send(staff: dict[str, Staff]) -> None:
    web = staff["viewer"].web
    page = web.get("/financeur/fichiers")
    assert page.status == 200 and "Envoyer un fichier" not in page.text
    refused = web.post(
        "/financeur/fichiers/envoi", {"csrf": page.hidden("csrf"), "file_name": "paiements_1.csv"}
    )
    assert refused.status == 403


def test_another_funders_file_is_not_found(staff: dict[str, Staff]) -> None:
    drop("region-idf", "paiements_12.csv", PAYMENTS)
    run_queue()
    record = next(
        item
        for item in get_container().funder_files.list("region-idf")
        if item.file_name == "paiements_12.csv"
    )
    other = staff["other"].web
    for path in (
        f"/financeur/fichiers/rapport?id={record.file_id}",
        f"/financeur/fichiers/rapport/telechargement?id={record.file_id}",
        "/financeur/fichiers/rapport?id=20990101T000000Z-0",
    ):
        assert other.get(path).status == 404, path
    assert "paiements_12.csv" not in other.get("/financeur/fichiers").text
    assert json.loads(other.get("/financeur/fichiers/etat").body)["files"] == []


def _payments_of(dossier: str) -> bytes:
    return PAYMENTS.replace(b"INCONNU", dossier.encode())


def test_an_earlier_drop_of_a_name_dropped_twice_shows_its_own_report(
    staff: dict[str, Staff],
) -> None:
    """`paiements_x.csv` dropped twice straight under `incoming/<funder>/`: the spec's path holds
    the second file's report, and the page of the FIRST file still shows the first file's lines
    and downloads its own report. When both records pointed at the spec's path, the first file's
    page showed « dossier SECOND »."""
    drop("region-idf", "paiements_x.csv", _payments_of("PREMIER"))
    run_queue()
    # Two lines: the records are told apart by their counts (S3 dates them to the second).
    second_file = (
        _payments_of("SECOND") + b"AUTRE;P-2;20/03/2018;16/10/2017;31/10/2017;REMUNERATION;1\n"
    )
    drop("region-idf", "paiements_x.csv", second_file)
    run_queue()
    container = get_container()
    records = [
        r for r in container.funder_files.list("region-idf") if r.file_name == "paiements_x.csv"
    ]
    assert len(records) == 2
    first, second = sorted(records, key=lambda record: record.counts["lines_read"])
    web = staff["manager"].web
    for record, own, other in ((first, "PREMIER", "SECOND"), (second, "SECOND", "PREMIER")):
        page = web.get(f"/financeur/fichiers/rapport?id={record.file_id}")
        assert page.status == 200 and f"dossier {own}" in page.text
        assert f"dossier {other}" not in page.text
        download = web.get(f"/financeur/fichiers/rapport/telechargement?id={record.file_id}")
        assert download.status == 303 and f"/{record.file_id}/paiements_x.csv.report.csv" in (
            download.location
        )
    spec_path = container.exchange.read("reports/region-idf/paiements_x.csv.report.csv")
    assert "SECOND" in spec_path.decode("utf-8-sig")
