"""The operators' command line: `python -m chalicelib.admin --stage <stage> <command>`.

It reads the stage's variables from .chalice/config.json (written by infra/deploy.py) and talks
to AWS with the operator's credentials, or to the local emulator with --endpoint-url.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib.services.funders.model import DEFAULT_RETENTION_YEARS, Funder

if TYPE_CHECKING:
    from chalicelib.adapters.dead_letters import DeadLetterQueue
    from chalicelib.services.accounts.model import Account

CONFIG_FILE = Path(__file__).resolve().parent.parent / ".chalice" / "config.json"


def _load_stage(stage: str, endpoint_url: str | None) -> None:
    config = json.loads(CONFIG_FILE.read_text())
    if stage not in config.get("stages", {}):
        raise SystemExit(f"Étape inconnue : {stage}")
    os.environ.update(config["stages"][stage].get("environment_variables", {}))
    os.environ["STAGE"] = stage
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # the console is for the operator
    if endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = endpoint_url
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "eu-west-3"))


def _on_off(value: str | None, current: bool) -> bool:
    return current if value is None else value == "oui"


def funder_set(args: argparse.Namespace) -> int:
    from chalicelib.container import get_container
    from chalicelib.services.funders.model import InvalidFunder, save_funder

    repository = get_container().funders
    current = repository.get(args.code)
    name = args.name or (current.name if current else "")
    try:
        funder = save_funder(
            repository,
            Funder(
                code=args.code,
                name=name,
                franceconnect_enabled=_on_off(
                    args.franceconnect, current.franceconnect_enabled if current else False
                ),
                messages_enabled=_on_off(
                    args.messages, current.messages_enabled if current else False
                ),
                retention_years=args.retention_years
                if args.retention_years is not None
                else (current.retention_years if current else DEFAULT_RETENTION_YEARS),
            ),
        )
    except InvalidFunder as error:
        print(f"Refusé : {error}", file=sys.stderr)
        return 2
    print(f"{'Mis à jour' if current else 'Créé'} : {_describe(funder)}")
    return 0


def _describe(funder: Funder) -> str:
    return (
        f"{funder.code} — {funder.name} — FranceConnect : "
        f"{'oui' if funder.franceconnect_enabled else 'non'} — messages : "
        f"{'oui' if funder.messages_enabled else 'non'} — conservation : "
        f"{funder.retention_years} ans après la fin de la formation"
    )


def funder_list(args: argparse.Namespace) -> int:
    from chalicelib.container import get_container
    from chalicelib.services.funders.model import list_funders

    funders = list_funders(get_container().funders)
    for funder in funders:
        print(_describe(funder))
    if not funders:
        print("Aucun financeur.")
    return 0


def funder_api_key(args: argparse.Namespace) -> int:
    """Creates (default), lists or revokes the API keys of a funder's own systems. A new key is
    printed once: only its SHA-256 is kept."""
    from chalicelib.container import get_container
    from chalicelib.services.funders.api_keys import UnknownFunder

    keys = get_container().funder_api_keys
    if args.revoke:
        if not keys.revoke(args.funder, args.revoke):
            print(
                f"Refusé : aucune clé active {args.revoke} pour le financeur {args.funder}.",
                file=sys.stderr,
            )
            return 2
        print(f"Clé {args.revoke} révoquée : elle est refusée dès maintenant.")
        return 0
    if args.list:
        records = keys.list(args.funder)
        for record in records:
            state = (
                f"révoquée le {record.revoked_at:%d/%m/%Y %H:%M}" if record.revoked_at else "active"
            )
            print(f"{record.key_id}  créée le {record.created_at:%d/%m/%Y %H:%M} UTC  {state}")
        print(f"{len(records)} clé(s)." if records else "Aucune clé pour ce financeur.")
        return 0
    try:
        issued = keys.issue(args.funder)
    except UnknownFunder as error:
        print(f"Refusé : {error}", file=sys.stderr)
        return 2
    print(f"Clé d'API du financeur {issued.funder_code} (identifiant {issued.key_id}) :")
    print(issued.key)
    print(
        "Elle ne sera plus jamais affichée : transmettez-la au financeur par un canal sûr. "
        "Révocation : funder api-key --funder "
        f"{issued.funder_code} --revoke {issued.key_id}"
    )
    return 0


def drop(args: argparse.Namespace) -> int:
    from chalicelib.container import get_container
    from chalicelib.services.funders.model import invalid_code_reason, is_valid_funder_code

    # Checked as `funder set` does: "..", "" or "a/b" would put the file outside incoming/<code>/.
    if not is_valid_funder_code(args.funder):
        print(f"Refusé : {invalid_code_reason()}", file=sys.stderr)
        return 2
    from chalicelib.services.funder_files.ingestion import locate

    path = Path(args.file)
    incoming = locate(f"incoming/{args.funder}/{path.name}")
    if incoming is None:  # "." or "/": no file name to drop under
        print(f"Refusé : « {args.file} » ne nomme pas un fichier.", file=sys.stderr)
        return 2
    exchange = get_container().exchange
    exchange.put(incoming.key, path.read_bytes())
    print(f"Déposé : s3://{exchange.name}/{incoming.key}")
    # The spec's path, as ingestion decides it: a later drop of the same name replaces it (each
    # drop also keeps its own copy, under its file id, which « Mes fichiers » shows).
    print(f"Rapport attendu : {incoming.latest_report_key}")
    return 0


def replay(args: argparse.Namespace) -> int:
    """Runs a file already in the bucket again, as a new delivery (never deduplicated)."""
    from chalicelib.container import get_container
    from chalicelib.events.funder_files import process_funder_file

    exchange = get_container().exchange
    head = exchange.head(args.key)
    summary = process_funder_file(
        {
            "bucket": exchange.name,
            "key": args.key,
            "version_id": head.get("VersionId") or "",
            "etag": head.get("ETag", "").strip('"'),
            "sequencer": f"replay-{time.time_ns()}",
        }
    )
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


QUEUE_VARIABLES = {
    "funder-files": "FUNDER_FILES_QUEUE",
    "notifications": "NOTIFICATIONS_QUEUE",
    "security-mails": "SECURITY_MAILS_QUEUE",
    "mail-events": "MAIL_EVENTS_QUEUE",
}


def _dead_letter_queue(queue: str) -> DeadLetterQueue:
    from chalicelib.adapters.dead_letters import DeadLetterQueue
    from chalicelib.container import get_container

    return DeadLetterQueue(get_container().client("sqs"), os.environ[QUEUE_VARIABLES[queue]])


def dead_letters_list(args: argparse.Namespace) -> int:
    queue = _dead_letter_queue(args.queue)
    letters = queue.waiting()
    for letter in letters:
        print(f"{letter.first_received_at:%d/%m/%Y %H:%M} UTC  {letter.summary}")
    print(f"{len(letters)} message(s) dans {queue.name}." if letters else f"{queue.name} est vide.")
    return 0


def dead_letters_send_back(args: argparse.Namespace) -> int:
    queue = _dead_letter_queue(args.queue)
    moved = queue.send_back()
    print(
        f"{moved} message(s) renvoyé(s) de {queue.name} vers leur file : ils vont être retraités."
    )
    left = queue.waiting()
    if left:
        print(f"{len(left)} message(s) encore en attente : relancer la commande.", file=sys.stderr)
        return 1
    return 0


def terms_publish(args: argparse.Namespace) -> int:
    """Every trainee will have to accept this version before going on."""
    from chalicelib.container import get_container
    from chalicelib.services.accounts.terms import TermsAlreadyPublished

    text = Path(args.file).read_text(encoding="utf-8")
    try:
        terms = get_container().terms.publish(args.version, text)
    except (TermsAlreadyPublished, ValueError) as error:
        print(f"Refusé : {error}", file=sys.stderr)
        return 2
    print(f"CGU version {terms.version} publiée : chaque stagiaire devra l'accepter.")
    return 0


def terms_show(args: argparse.Namespace) -> int:
    from chalicelib.container import get_container

    terms = get_container().terms.repository.current()
    if terms is None:
        print("Aucune version des CGU n'est publiée.")
        return 1
    print(f"Version en vigueur : {terms.version}, publiée le {terms.published_at:%d/%m/%Y %H:%M}")
    return 0


def audit_show(args: argparse.Namespace) -> int:
    """The security events of one account, newest first (kept one year)."""
    from chalicelib.container import get_container
    from chalicelib.services.accounts.identity import normalise_typed_email
    from chalicelib.services.mail.mails import mask_email

    container = get_container()
    wanted = args.account.strip()
    account = (
        container.accounts.find_by_email(normalise_typed_email(wanted))
        if "@" in wanted
        else container.accounts.get(wanted)
    )
    # An account id is enough for events of an account since deleted, or renamed away.
    account_id = account.account_id if account else ("" if "@" in wanted else wanted)
    events = container.audit.events(account_id, limit=args.limit) if account_id else []
    if account is not None:
        print(f"Compte {account.account_id} ({mask_email(account.email)})")
    if not events:
        print("Aucun événement pour ce compte." if account else "Aucun compte ni événement.")
        return 0 if account else 1
    for item in events:
        values = item.details.as_dict() if item.details else {}
        details = ", ".join(f"{key}={value}" for key, value in sorted(values.items()))
        line = f"{item.occurred_at:%Y-%m-%d %H:%M:%S} UTC  {item.event}  {item.client_ip or '-'}"
        print(f"{line}  {details}".rstrip())
    print(f"{len(events)} événement(s), du plus récent au plus ancien.")
    return 0


def retention_run(args: argparse.Namespace) -> int:
    """What the daily schedule runs, now (a missed day, the local stack)."""
    from chalicelib.container import get_container

    container = get_container()
    run = container.inactivity_job().run()
    purged = container.retention_purge().run()
    print(
        f"Comptes inactifs avertis : {run.warned} ; fermés : {run.closed} ; gardés (connexion "
        f"entre-temps) : {run.kept} ; dossiers supprimés (durée du financeur écoulée) : {purged}"
    )
    return 0


def dossiers_backfill_name_search(args: argparse.Namespace) -> int:
    """Once after the deploy that brought « Rechercher un dossier » by name: the dossiers written
    before it get their search key (the funders' files give it to every dossier they write)."""
    from chalicelib.container import get_container

    keyed = get_container().dossiers.backfill_name_birth_keys()
    print(f"Dossiers rendus trouvables par nom et date de naissance : {keyed}")
    return 0


def staff_create(args: argparse.Namespace) -> int:
    """An organisation staff account: the invitation mail carries a temporary password (72 h)."""
    from chalicelib.container import get_container
    from chalicelib.services.accounts.staff import StaffRequest

    request = StaffRequest(
        siret=args.siret, organisation_name=args.organisation_name, **_person(args)
    )
    return _invite(
        lambda: get_container().staff_invitations.organisation(request),
        lambda account: (
            f"organisme {account.organisation_name} (SIRET {account.organisation_siret})"
        ),
    )


def staff_invite(args: argparse.Namespace) -> int:
    """A funder staff account: the invitation mail carries a temporary password (72 h); TOTP is
    enrolled at the first login."""
    from chalicelib.container import get_container
    from chalicelib.services.accounts.staff import FunderStaffRequest

    request = FunderStaffRequest(funder_code=args.funder, role=args.role, **_person(args))
    return _invite(
        lambda: get_container().staff_invitations.funder(request),
        lambda account: (
            f"financeur {account.funder_code}, rôle "
            f"{account.staff_role.value if account.staff_role else ''}"
        ),
    )


def _person(args: argparse.Namespace) -> dict[str, str]:
    """Who is invited, as both staff commands take it."""
    return {
        "email": args.email,
        "family_name": args.family_name or "",
        "given_names": args.given_names or "",
    }


def _invite(invite: Callable[[], Account], where: Callable[[Account], str]) -> int:
    """Runs one of the two staff invitations (services/accounts/staff.py) and says what it did."""
    from chalicelib.services.accounts.staff import InvalidStaff
    from chalicelib.services.mail.mails import mask_email

    try:
        account = invite()
    except InvalidStaff as error:
        print(f"Refusé : {error}", file=sys.stderr)
        return 2
    print(
        f"Compte créé : {account.account_id} ({mask_email(account.email)}), {where(account)}. "
        "Invitation envoyée, mot de passe provisoire valable 72 heures."
    )
    return 0


def staff_reset_totp(args: argparse.Namespace) -> int:
    """A staff member lost the phone and the recovery codes: the second factor goes, the
    sessions end, and the next login enrols a new one. Written to the account's audit trail."""
    from chalicelib.container import get_container
    from chalicelib.services.accounts.totp import NotStaff, ResetNotMailed
    from chalicelib.services.mail.mails import mask_email

    try:
        account = get_container().totp.reset(args.email)
    except NotStaff:
        print(
            "Refusé : aucun compte d'organisme ou de financeur avec cette adresse.", file=sys.stderr
        )
        return 2
    except ResetNotMailed as unmailed:
        print(
            f"Double authentification réinitialisée pour {mask_email(unmailed.account.email)}, "
            "mais le courriel qui prévient la personne n'a pas pu être mis en file d'envoi : "
            "relancez la même commande (sans risque) pour l'envoyer.",
            file=sys.stderr,
        )
        return 1
    print(
        f"Double authentification réinitialisée pour {mask_email(account.email)} "
        f"({account.account_id}) : ses sessions sont fermées ; à sa prochaine connexion, la "
        "personne enregistrera une nouvelle application et recevra de nouveaux codes de secours. "
        "Un courriel l'en prévient."
    )
    return 0


def staff_list(args: argparse.Namespace) -> int:
    from chalicelib.container import get_container
    from chalicelib.services.accounts.staff import clean_siret
    from chalicelib.services.mail.mails import mask_email

    members = get_container().messages.repository.staff_members(clean_siret(args.siret))
    for account_id, email, added_at in members:
        print(f"{account_id}  {mask_email(email)}  créé le {added_at:%d/%m/%Y}")
    print(f"{len(members)} compte(s) pour ce SIRET." if members else "Aucun compte pour ce SIRET.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.admin", description="Administration du Portail stagiaire."
    )
    parser.add_argument("--stage", default="local", help="local, test, dev ou prod")
    parser.add_argument("--endpoint-url", help="émulateur local, ex. http://127.0.0.1:4566")
    commands = parser.add_subparsers(dest="command", required=True)

    funder = commands.add_parser("funder", help="financeurs").add_subparsers(
        dest="action", required=True
    )
    set_parser = funder.add_parser("set", help="créer ou modifier un financeur")
    set_parser.add_argument("code")
    set_parser.add_argument("--name", help="nom affiché (obligatoire à la création)")
    set_parser.add_argument("--franceconnect", choices=("oui", "non"))
    set_parser.add_argument("--messages", choices=("oui", "non"))
    set_parser.add_argument(
        "--retention-years",
        type=int,
        metavar="N",
        help="ans de conservation des dossiers après la fin de la formation (5 par défaut)",
    )
    set_parser.set_defaults(run=funder_set)
    funder.add_parser("list", help="lister les financeurs").set_defaults(run=funder_list)
    key_parser = funder.add_parser(
        "api-key", help="clé d'API d'un financeur : créer (affichée une fois), lister, révoquer"
    )
    key_parser.add_argument("--funder", required=True, help="code du financeur")
    key_choice = key_parser.add_mutually_exclusive_group()
    key_choice.add_argument("--list", action="store_true", help="lister ses clés")
    key_choice.add_argument("--revoke", metavar="IDENTIFIANT", help="révoquer cette clé")
    key_parser.set_defaults(run=funder_api_key)

    drop_parser = commands.add_parser("drop", help="déposer un fichier financeur")
    drop_parser.add_argument("file")
    drop_parser.add_argument("--funder", required=True)
    drop_parser.set_defaults(run=drop)

    replay_parser = commands.add_parser("replay", help="rejouer un fichier déjà déposé")
    replay_parser.add_argument("key", help="ex. incoming/region-idf/paiements_2026-11.csv")
    replay_parser.set_defaults(run=replay)

    dead_letters = commands.add_parser(
        "dead-letters", help="files d'erreur (messages qui ont échoué plusieurs fois)"
    ).add_subparsers(dest="action", required=True)
    for name, run, help_text in (
        ("list", dead_letters_list, "ce qui attend dans la file d'erreur"),
        ("send-back", dead_letters_send_back, "renvoyer tout vers la file d'origine"),
    ):
        action = dead_letters.add_parser(name, help=help_text)
        action.add_argument("queue", choices=tuple(QUEUE_VARIABLES))
        action.set_defaults(run=run)

    terms = commands.add_parser("terms", help="conditions générales d'utilisation").add_subparsers(
        dest="action", required=True
    )
    publish_parser = terms.add_parser("publish", help="publier une nouvelle version")
    publish_parser.add_argument(
        "file", help="texte en UTF-8 ; paragraphes séparés par une ligne vide"
    )
    publish_parser.add_argument("--version", required=True, help="ex. 2026-11")
    publish_parser.set_defaults(run=terms_publish)
    terms.add_parser("show", help="version en vigueur").set_defaults(run=terms_show)

    retention = commands.add_parser(
        "retention", help="durées de conservation des données personnelles"
    ).add_subparsers(dest="action", required=True)
    retention.add_parser(
        "run", help="lancer maintenant la tâche quotidienne (comptes inactifs, dossiers échus)"
    ).set_defaults(run=retention_run)

    dossiers = commands.add_parser("dossiers", help="dossiers des stagiaires").add_subparsers(
        dest="action", required=True
    )
    dossiers.add_parser(
        "backfill-name-search",
        help="rendre trouvables par nom et date de naissance les dossiers plus anciens",
    ).set_defaults(run=dossiers_backfill_name_search)

    audit = commands.add_parser("audit", help="journal de sécurité").add_subparsers(
        dest="action", required=True
    )
    show_parser = audit.add_parser("show", help="événements de sécurité d'un compte")
    show_parser.add_argument("account", help="adresse mail ou identifiant du compte")
    show_parser.add_argument("--limit", type=int, default=200, help="nombre maximal d'événements")
    show_parser.set_defaults(run=audit_show)

    staff = commands.add_parser(
        "staff", help="comptes des organismes et des financeurs"
    ).add_subparsers(dest="action", required=True)
    create_parser = staff.add_parser("create", help="créer un compte et envoyer l'invitation")
    create_parser.add_argument("--email", required=True, help="adresse mail de la personne")
    create_parser.add_argument("--siret", required=True, help="SIRET de l'organisme (14 chiffres)")
    create_parser.add_argument("--organisation-name", required=True, help="nom de l'organisme")
    create_parser.add_argument("--family-name", help="nom de la personne (facultatif)")
    create_parser.add_argument("--given-names", help="prénom de la personne (facultatif)")
    create_parser.set_defaults(run=staff_create)
    invite_parser = staff.add_parser(
        "invite", help="inviter une personne d'un financeur dans l'espace financeur"
    )
    invite_parser.add_argument("--funder", required=True, help="code du financeur")
    invite_parser.add_argument(
        "--role",
        required=True,
        choices=("gestionnaire", "consultation"),
        help="gestionnaire (tout) ou consultation (lecture seule)",
    )
    invite_parser.add_argument("--email", required=True, help="adresse mail de la personne")
    invite_parser.add_argument("--family-name", help="nom de la personne (facultatif)")
    invite_parser.add_argument("--given-names", help="prénom de la personne (facultatif)")
    invite_parser.set_defaults(run=staff_invite)
    reset_parser = staff.add_parser(
        "reset-totp",
        help="réinitialiser la double authentification (téléphone et codes de secours perdus)",
    )
    reset_parser.add_argument("--email", required=True, help="adresse mail du compte")
    reset_parser.set_defaults(run=staff_reset_totp)
    list_parser = staff.add_parser("list", help="comptes d'un organisme")
    list_parser.add_argument("--siret", required=True)
    list_parser.set_defaults(run=staff_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _load_stage(args.stage, args.endpoint_url)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
