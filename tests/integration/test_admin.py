"""The operators' command line against the emulated account."""

from __future__ import annotations

import json

import pytest

from chalicelib import admin
from chalicelib.container import get_container
from tests.support.aws import drop, report, run_queue

DOSSIERS = (
    "numero_dossier;nom;prenoms;date_naissance;code_formation;intitule_formation;date_debut;"
    "date_fin;siret_organisme;nom_organisme;taux_mensuel;date_decision;statut\n"
    "D-1;MARTIN;Camille;14/05/1990;DEV;Développeur;16/10/2017;29/06/2018;54756834567143;IFN;"
    "310,39;02/10/2017;en_cours\n"
).encode()


def run(*arguments: str) -> int:
    return admin.main(["--stage", "test", *arguments])


def test_an_operator_creates_lists_and_updates_funders(
    aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("funder", "set", "region-x", "--name", "Région X", "--franceconnect", "oui") == 0
    assert run("funder", "set", "region-x", "--messages", "oui") == 0
    assert run("funder", "list") == 0
    output = capsys.readouterr().out
    assert "Créé : region-x — Région X — FranceConnect : oui — messages : non" in output
    assert "region-x — Région X — FranceConnect : oui — messages : oui" in output.splitlines()[-1]
    funder = get_container().funders.get("region-x")
    assert funder is not None and funder.messages_enabled and funder.franceconnect_enabled


def test_a_bad_funder_is_refused_with_a_french_reason(
    aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("funder", "set", "Région X", "--name", "Région X") == 2
    assert run("funder", "set", "region-x") == 2
    errors = capsys.readouterr().err
    assert "Le code financeur doit faire" in errors
    assert "Le nom du financeur est obligatoire" in errors
    assert get_container().funders.list() == []


def test_an_operator_replays_a_file_already_in_the_bucket(
    aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    run("funder", "set", "region-x", "--name", "Région X")
    drop("region-x", "dossiers_a.csv", DOSSIERS)
    run_queue()
    capsys.readouterr()
    assert run("replay", "incoming/region-x/dossiers_a.csv") == 0
    output = capsys.readouterr().out
    summary = json.loads(output[output.index("{\n") :])  # after the JSON log lines
    assert summary["dossiers_unchanged"] == 1
    assert report("region-x", "dossiers_a.csv")["Dossiers inchangés"] == "1"


def test_an_operator_drops_a_file_for_a_funder(
    aws: dict[str, str], tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    run("funder", "set", "region-x", "--name", "Région X")
    path = tmp_path / "dossiers_b.csv"
    path.write_bytes(DOSSIERS)
    assert run("drop", str(path), "--funder", "region-x") == 0
    printed = capsys.readouterr().out.split("Rapport attendu : ", 1)[1].split()[0]
    assert run_queue() == 1
    assert report("region-x", "dossiers_b.csv")["Dossiers créés"] == "1"
    # The key told is the spec's (docs/specs/funder-files.md: reports/<funder>/<name>.report.csv),
    # where the report is; the record keeps the file's own copy, under its id.
    [record] = get_container().funder_files.list("region-x")
    assert printed == "reports/region-x/dossiers_b.csv.report.csv"
    assert record.report_key == f"reports/region-x/{record.file_id}/dossiers_b.csv.report.csv"
    exchange = get_container().exchange
    assert "Dossiers créés;;;1" in exchange.read(printed).decode("utf-8-sig")
    assert exchange.read(record.report_key) == exchange.read(printed)


def test_a_drop_of_no_file_name_is_refused(
    aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    run("funder", "set", "region-x", "--name", "Région X")
    assert run("drop", ".", "--funder", "region-x") == 2
    assert "« . » ne nomme pas un fichier." in capsys.readouterr().err
    assert run_queue() == 0, "nothing reached the bucket"


@pytest.mark.parametrize("code", ["..", "", "a/b", "Région", "x", "static"])
def test_a_drop_for_a_code_that_funder_set_would_refuse_is_refused(
    aws: dict[str, str], tmp_path, capsys: pytest.CaptureFixture[str], code: str
) -> None:
    path = tmp_path / "dossiers_c.csv"
    path.write_bytes(DOSSIERS)
    assert run("drop", str(path), "--funder", code) == 2
    assert "Le code financeur doit faire" in capsys.readouterr().err
    assert run_queue() == 0, "nothing reached the bucket"


def test_an_operator_publishes_a_new_cgu_version(
    aws: dict[str, str], tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "cgu.txt"
    text.write_text("# Objet\n\nLes conditions.", encoding="utf-8")
    assert run("terms", "publish", str(text), "--version", "2027-01") == 0
    assert run("terms", "publish", str(text), "--version", "2027-01") == 2
    assert run("terms", "show") == 0
    output = capsys.readouterr()
    assert "CGU version 2027-01 publiée" in output.out
    assert "déjà publiée" in output.err
    assert "Version en vigueur : 2027-01" in output.out
    assert get_container().terms.repository.current_version() == "2027-01"


def test_an_operator_lists_a_dead_letter_then_sends_it_back_to_be_processed(
    aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    run("funder", "set", "region-x", "--name", "Région X")
    drop("region-x", "dossiers_c.csv", DOSSIERS)
    sqs = boto3.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=aws["FunderFilesQueueName"])["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=aws["FunderFilesDeadLetterQueueName"])["QueueUrl"]
    # The file's event, as the queue hands it to the dead-letter queue after its failed tries.
    [event] = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    sqs.send_message(QueueUrl=dlq_url, MessageBody=event["Body"])
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=event["ReceiptHandle"])
    capsys.readouterr()

    assert run("dead-letters", "list", "funder-files") == 0
    listed = capsys.readouterr().out
    assert "fichier incoming/region-x/dossiers_c.csv" in listed
    assert "1 message(s) dans portail-stagiaire-test-funder-files-dlq." in listed

    assert run("dead-letters", "send-back", "funder-files") == 0  # right after the listing
    assert "1 message(s) renvoyé(s)" in capsys.readouterr().out
    assert run_queue() == 1
    assert report("region-x", "dossiers_c.csv")["Dossiers créés"] == "1"
    assert run("dead-letters", "list", "funder-files") == 0
    assert "portail-stagiaire-test-funder-files-dlq est vide." in capsys.readouterr().out


def test_a_dead_payment_mail_is_listed_without_personal_data_nor_secret(
    aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    sqs = boto3.client("sqs")
    dlq_url = sqs.get_queue_url(QueueName=aws["NotificationsDeadLetterQueueName"])["QueueUrl"]
    for body in (
        {"kind": "new-payment", "funder": "region-x", "reference": "P-1"},
        {"kind": "recovery", "ticket": "secret-du-ticket", "funder": "region-x", "client_ip": "1"},
    ):
        sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps(body))
    assert run("dead-letters", "list", "notifications") == 0
    listed = capsys.readouterr().out
    assert "avis de paiement region-x P-1" in listed
    assert "code « Mot de passe oublié » (region-x)" in listed
    assert "secret-du-ticket" not in listed


def test_a_dead_mail_event_is_listed_without_the_address(
    aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    import boto3

    sqs = boto3.client("sqs")
    dlq_url = sqs.get_queue_url(QueueName=aws["MailEventsDeadLetterQueueName"])["QueueUrl"]
    event = {
        "eventType": "Bounce",
        "bounce": {"bouncedRecipients": [{"emailAddress": "lea@example.fr"}]},
        "mail": {"messageId": "0102-ses-id", "destination": ["lea@example.fr"]},
    }
    envelope = {"Type": "Notification", "Message": json.dumps(event)}
    sqs.send_message(QueueUrl=dlq_url, MessageBody=json.dumps(envelope))

    assert run("dead-letters", "list", "mail-events") == 0
    listed = capsys.readouterr().out
    assert "retour SES Bounce (courriel 0102-ses-id)" in listed
    assert "lea@example.fr" not in listed


def test_every_admin_command_of_the_readme_is_one_the_command_line_takes() -> None:
    import shlex
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    commands = [
        shlex.split(line.split("chalicelib.admin", 1)[1], comments=True)
        for line in readme.replace("\\\n", " ").splitlines()
        if line.lstrip().startswith(
            ("python -m chalicelib.admin", ".venv/bin/python -m chalicelib.admin")
        )
    ]
    assert len(commands) >= 10
    for arguments in commands:
        admin.build_parser().parse_args(arguments)  # exits with 2 on a command it does not take


def test_an_operator_sets_a_funders_retention_period(
    aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("funder", "set", "region-x", "--name", "Région X") == 0
    assert get_container().funders.get("region-x").retention_years == 5  # type: ignore[union-attr]
    assert run("funder", "set", "region-x", "--retention-years", "8") == 0
    assert "conservation : 8 ans après la fin de la formation" in capsys.readouterr().out
    assert run("funder", "set", "region-x", "--messages", "oui") == 0  # the period stays
    assert get_container().funders.get("region-x").retention_years == 8  # type: ignore[union-attr]
    assert run("funder", "set", "region-x", "--retention-years", "0") == 2
    assert "La durée de conservation doit être de 1 à 30 ans" in capsys.readouterr().err


def test_an_operator_runs_the_retention_job_now(
    aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("funder", "set", "region-x", "--name", "Région X", "--retention-years", "1") == 0
    drop("region-x", "dossiers_1.csv", DOSSIERS)  # a training ended in June 2018
    run_queue()
    assert get_container().dossiers.get("region-x", "D-1") is not None
    assert run("retention", "run") == 0
    assert "dossiers supprimés (durée du financeur écoulée) : 1" in capsys.readouterr().out
    assert get_container().dossiers.get("region-x", "D-1") is None
