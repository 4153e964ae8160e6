"""/api/v1/funder/… with a funder's API key, on the real Chalice routing under moto: the upload
form is a POST policy confined to the funder's prefix; files, status and report are the funder's
own; another funder's file answers 404 like a missing one; no key, 401."""

from __future__ import annotations

import base64
import json

import pytest

from chalicelib.container import get_container
from chalicelib.services.funders.model import Funder, save_funder
from chalicelib.services.funders.uploads import MAX_UPLOAD_BYTES
from tests.support.api import Api
from tests.support.aws import drop, run_queue
from tests.support.web import WebClient

PAYMENTS = (
    b"numero_dossier;reference_paiement;date_mise_en_paiement;periode_debut;periode_fin;element;"
    b"montant\nINCONNU;P-1;20/03/2018;16/10/2017;31/10/2017;REMUNERATION;144,85\n"
)


@pytest.fixture
def keys(portal: WebClient) -> tuple[Api, str, str]:
    container = get_container()
    save_funder(container.funders, Funder("region-hdf", "Région Hauts-de-France"))
    idf = container.funder_api_keys.issue("region-idf").key
    hdf = container.funder_api_keys.issue("region-hdf").key
    return Api(portal.client), idf, hdf


def policy_of(fields: dict[str, str]) -> dict:
    return json.loads(base64.b64decode(fields["policy"]))


def test_an_upload_form_is_confined_to_the_funders_prefix_size_and_type(keys) -> None:
    api, idf, _ = keys
    answer = api.call("POST", "/api/v1/funder/uploads", {"file_name": "paiements_12.csv"}, idf)
    assert answer.status == 201, answer.body
    upload = answer.json
    folder, name = upload["key"].removeprefix("incoming/region-idf/").split("/")
    assert name == "paiements_12.csv"
    conditions = policy_of(upload["fields"])["conditions"]
    assert ["starts-with", "$key", f"incoming/region-idf/{folder}/"] in conditions
    assert ["content-length-range", 1, MAX_UPLOAD_BYTES] in conditions
    assert {"Content-Type": "text/csv"} in conditions
    sender = upload["fields"]["x-amz-meta-sender"]
    assert sender.startswith("api-key:") and {"x-amz-meta-sender": sender} in conditions


@pytest.mark.parametrize(
    "name", ["notes.txt", "paiements.csv", "../dossiers_x.csv", "dossiers_é.csv"]
)
def test_a_file_name_the_portal_would_not_read_is_refused_in_french(keys, name: str) -> None:
    api, idf, _ = keys
    answer = api.call("POST", "/api/v1/funder/uploads", {"file_name": name}, idf)
    assert (answer.status, answer.error["code"]) == (400, "invalid_request")
    assert "dossiers_….csv ou paiements_….csv" in answer.error["fields"]["file_name"]


def test_files_status_and_report_are_the_funders_own(keys) -> None:
    api, idf, hdf = keys
    get_container().exchange._s3.put_object(
        Bucket=get_container().exchange.name,
        Key="incoming/region-idf/paiements_12.csv",
        Body=PAYMENTS,
        ContentType="text/csv",
        Metadata={"sender": "api-key:abc", "client-ip": "203.0.113.5"},
    )
    run_queue()
    files = api.call("GET", "/api/v1/funder/files", token=idf).json["files"]
    mine = next(item for item in files if item["name"] == "paiements_12.csv")
    assert mine["status"] == "traité" and mine["counts"]["lines_rejected"] == 1
    assert (mine["sender"], mine["sender_address"]) == ("api-key:abc", "203.0.113.5")
    path = f"/api/v1/funder/files/{mine['id']}"
    assert api.call("GET", path, token=idf).json["status"] == "traité"
    report = api.call("GET", f"{path}/report?column=numero_dossier", token=idf).json
    assert [line["line"] for line in report["rejected_lines"]] == ["2"]
    own = f"reports/region-idf/{mine['id']}/paiements_12.csv.report.csv"
    assert report["csv_url"] and own in report["csv_url"]
    assert api.call("GET", f"{path}/report?column=montant", token=idf).json["rejected_lines"] == []
    # Another funder's key: the same answer as a file that does not exist.
    for url in (path, f"{path}/report", "/api/v1/funder/files/20990101T000000Z-0"):
        other = api.call("GET", url, token=hdf)
        assert (other.status, other.error["code"]) == (404, "not_found"), url
    assert api.call("GET", "/api/v1/funder/files", token=hdf).json["files"] == []
    for token in (None, "pfk_000000000000_" + "a" * 43):
        refused = api.call("GET", "/api/v1/funder/files", token=token)
        assert (refused.status, refused.error["code"]) == (401, "not_authenticated")


def test_an_earlier_drop_of_a_name_dropped_twice_reports_its_own_lines(keys) -> None:
    """The API's report of the FIRST of two drops of `paiements_x.csv` is the first file's, and
    its link downloads the first file's own report; the spec's path holds the second's."""
    api, idf, _ = keys
    container = get_container()
    drop("region-idf", "paiements_x.csv", PAYMENTS.replace(b"INCONNU", b"PREMIER"))
    run_queue()
    # Two lines: the files are told apart by their counts (S3 dates them to the second).
    second = PAYMENTS.replace(b"INCONNU", b"SECOND") + (
        b"AUTRE;P-2;20/03/2018;16/10/2017;31/10/2017;REMUNERATION;1\n"
    )
    drop("region-idf", "paiements_x.csv", second)
    run_queue()
    files = [
        item
        for item in api.call("GET", "/api/v1/funder/files", token=idf).json["files"]
        if item["name"] == "paiements_x.csv"
    ]
    assert len(files) == 2
    by_lines = {item["counts"]["lines_read"]: item["id"] for item in files}
    for lines, own, other in ((1, "PREMIER", "SECOND"), (2, "SECOND", "PREMIER")):
        file_id = by_lines[lines]
        report = api.call("GET", f"/api/v1/funder/files/{file_id}/report", token=idf).json
        reasons = " ".join(line["reason"] for line in report["rejected_lines"])
        assert f"dossier {own}" in reasons and f"dossier {other}" not in reasons
        key = f"reports/region-idf/{file_id}/paiements_x.csv.report.csv"
        assert key in report["csv_url"]
        assert f"Lignes lues;;;{lines}" in container.exchange.read(key).decode("utf-8-sig")
    spec_path = container.exchange.read("reports/region-idf/paiements_x.csv.report.csv")
    assert "Lignes lues;;;2" in spec_path.decode("utf-8-sig")
