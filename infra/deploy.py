"""Deploy the CloudFormation stacks of a stage and write their outputs into .chalice/config.json.

    python -m infra.deploy --stage dev [--region eu-west-3] [--mail-domain D] [--alarm-email A]
        [--domain-name portail.example.gouv.fr --certificate-arn arn:aws:acm:us-east-1:...]
    python -m infra.deploy --stage dev funder-access --funder CODE --trusted-principal ARN

The main stack also uploads the static files to the assets bucket, and, once `chalice deploy` has
created the API (its id is read from .chalice/deployed/<stage>.json), puts CloudFront in front.

Changes go through a change set, so the console shows what will change, and a template that
changes nothing is a no-op. boto3 honours AWS_ENDPOINT_URL, so this also runs against the emulator.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import json
import re
import secrets
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, WaiterError

from chalicelib.web import static_files
from infra.policy import DEFAULT_MAIL_DOMAIN, lambda_policies, policy_file_name

ROOT = Path(__file__).resolve().parent.parent
MAIN_TEMPLATE = ROOT / "infra" / "template.yaml"
FUNDER_TEMPLATE = ROOT / "infra" / "funder-access.yaml"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
CHALICE_DEPLOYED = ROOT / ".chalice" / "deployed"
STAGES = ("local", "test", "dev", "prod")
DEFAULT_REGION = "eu-west-3"
FUNDER_CODE = re.compile(r"^[a-z0-9-]{2,32}$")

# Stack output -> environment variable of the Chalice app.
OUTPUT_TO_ENVIRONMENT = {
    "ExchangeBucketName": "EXCHANGE_BUCKET",
    "DocumentsBucketName": "DOCUMENTS_BUCKET",
    "FunderFilesQueueName": "FUNDER_FILES_QUEUE",
    "NotificationsQueueName": "NOTIFICATIONS_QUEUE",
    "SecurityMailsQueueName": "SECURITY_MAILS_QUEUE",
    "MailEventsQueueName": "MAIL_EVENTS_QUEUE",
    "MailConfigurationSetName": "MAIL_CONFIGURATION_SET",
    "FranceConnectSecretName": "FRANCECONNECT_SECRET_NAME",
}
NO_CHANGE_REASONS = ("didn't contain changes", "No updates are to be performed")


class DeployError(RuntimeError):
    """A deployment that cannot go on; the message is meant for the operator."""


# ---------------------------------------------------------------- pure parts


def stack_name(stage: str) -> str:
    return f"portail-stagiaire-{stage}"


def funder_stack_name(stage: str, funder_code: str) -> str:
    return f"portail-stagiaire-{stage}-funder-{funder_code}"


def environment_from_outputs(stage: str, outputs: Mapping[str, str]) -> dict[str, str]:
    """The app's environment variables that the main stack determines."""
    missing = sorted(key for key in OUTPUT_TO_ENVIRONMENT if key not in outputs)
    if missing:
        raise DeployError(f"Sorties absentes de la pile {stack_name(stage)} : {', '.join(missing)}")
    environment = {"STAGE": stage, "TABLE_PREFIX": stack_name(stage)}
    environment.update({env: outputs[key] for key, env in OUTPUT_TO_ENVIRONMENT.items()})
    return environment


def merge_environment(
    config: Mapping[str, Any], stage: str, environment: Mapping[str, str]
) -> dict[str, Any]:
    """A copy of the Chalice config with these variables set in the stage; other keys are kept."""
    merged = copy.deepcopy(dict(config))
    stage_config = merged.setdefault("stages", {}).setdefault(stage, {})
    stage_config.setdefault("environment_variables", {}).update(environment)
    return merged


def stack_parameters(
    given: Mapping[str, str | None], previous_keys: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """CloudFormation parameters: the given values; on update, a parameter not given keeps the
    stack's current value (rather than falling back to the template's default)."""
    parameters: list[dict[str, Any]] = []
    for key, value in given.items():
        if value is not None:
            parameters.append({"ParameterKey": key, "ParameterValue": value})
        elif key in previous_keys:
            parameters.append({"ParameterKey": key, "UsePreviousValue": True})
    return parameters


def outputs_of(stack: Mapping[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def parameters_of(stack: Mapping[str, Any]) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}


def own_policy_files(config: Mapping[str, Any], stage: str) -> dict[str, str]:
    """Function -> policy file, for the functions whose file is the stage's own (local and test
    borrow dev's: left alone)."""
    functions = config.get("stages", {}).get(stage, {}).get("lambda_functions", {})
    return {
        function: settings["iam_policy_file"]
        for function, settings in functions.items()
        if settings.get("iam_policy_file") == policy_file_name(stage, function)
    }


def is_no_change(change_set: Mapping[str, Any]) -> bool:
    reason = change_set.get("StatusReason") or ""
    if change_set.get("Status") == "FAILED":
        return any(text in reason for text in NO_CHANGE_REASONS)
    return change_set.get("Status") == "CREATE_COMPLETE" and not change_set.get("Changes")


def describe_change(change: Mapping[str, Any]) -> str:
    detail = change.get("ResourceChange", {})
    action = {"Add": "ajout", "Modify": "modification", "Remove": "SUPPRESSION"}.get(
        detail.get("Action", ""), detail.get("Action", "?")
    )
    line = f"  - {action} : {detail.get('LogicalResourceId')} ({detail.get('ResourceType')})"
    if detail.get("Replacement") in ("True", "Conditional"):
        line += " - REMPLACEMENT"
    return line


def deployed_api_id(stage: str, deployed_dir: Path | None = None) -> str | None:
    """The REST API that `chalice deploy` created for the stage, from its deployment record."""
    path = (deployed_dir or CHALICE_DEPLOYED) / f"{stage}.json"
    if not path.exists():
        return None
    record = json.loads(path.read_text(encoding="utf-8"))
    for resource in record.get("resources", []):
        if resource.get("resource_type") == "rest_api" and resource.get("rest_api_id"):
            return str(resource["rest_api_id"])
    return None


def asset_key(relative_path: str) -> str:
    """The bucket key of a static file: the path CloudFront asks for (`/static/...`)."""
    return static_files.STATIC_PREFIX.lstrip("/") + relative_path


# ---------------------------------------------------------------- AWS side


def upload_static_assets(
    s3: Any, bucket: str, files: Sequence[tuple[str, Path]] | None = None
) -> int:
    """Puts every static file under static/ with its content type and a year-long cache header;
    a file whose bytes are already there is skipped. Returns how many were uploaded."""
    files = static_files.published_files() if files is None else files
    if not any(relative.startswith("dsfr/") for relative, _ in files):
        raise DeployError(
            "Les fichiers du DSFR ne sont pas construits : lancez `make setup`, puis relancez."
        )
    present: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="static/"):
        for item in page.get("Contents", []):
            present[item["Key"]] = item["ETag"].strip('"')
    uploaded = 0
    for relative, path in files:
        data = path.read_bytes()
        key = asset_key(relative)
        if present.get(key) == hashlib.md5(data, usedforsecurity=False).hexdigest():
            continue
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=data,
            ContentType=static_files.content_type(path),
            CacheControl=static_files.CACHE_FOREVER,
        )
        uploaded += 1
    return uploaded


def _current_stack(cloudformation: Any, name: str) -> dict[str, Any] | None:
    try:
        return cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise


def deploy_stack(
    cloudformation: Any,
    name: str,
    template: Path,
    given_parameters: Mapping[str, str | None],
    capabilities: Sequence[str] = (),
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Create or update the stack through a change set, wait for it; returns its description."""
    stack = _current_stack(cloudformation, name)
    status = stack["StackStatus"] if stack else None
    if status == "ROLLBACK_COMPLETE":
        raise DeployError(
            f"La pile {name} a échoué à sa création (ROLLBACK_COMPLETE) : supprimez-la dans la "
            "console CloudFormation, corrigez la cause, puis relancez."
        )
    if status and status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise DeployError(f"La pile {name} est en cours d'opération ({status}) : réessayez après.")
    creating = status in (None, "REVIEW_IN_PROGRESS")
    previous_keys = [p["ParameterKey"] for p in (stack or {}).get("Parameters", [])]
    change_set_name = f"deploy-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    print(f"Pile {name} : {'création' if creating else 'mise à jour'} ({change_set_name})…")
    try:
        cloudformation.create_change_set(
            StackName=name,
            ChangeSetName=change_set_name,
            ChangeSetType="CREATE" if creating else "UPDATE",
            TemplateBody=template.read_text(encoding="utf-8"),
            Parameters=stack_parameters(given_parameters, previous_keys),
            Capabilities=list(capabilities),
            Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        )
    except ClientError as error:
        # The emulator refuses an empty change set at once; AWS creates it FAILED (below).
        if not creating and any(text in str(error) for text in NO_CHANGE_REASONS):
            print(f"Pile {name} : aucun changement, rien à déployer.")
            return stack or {}
        raise
    # A change set without changes ends FAILED, which the waiter reports: looked at just below.
    with contextlib.suppress(WaiterError):
        cloudformation.get_waiter("change_set_create_complete").wait(
            StackName=name, ChangeSetName=change_set_name, WaiterConfig={"Delay": 3}
        )
    change_set = cloudformation.describe_change_set(StackName=name, ChangeSetName=change_set_name)
    if is_no_change(change_set) and not creating:
        cloudformation.delete_change_set(StackName=name, ChangeSetName=change_set_name)
        print(f"Pile {name} : aucun changement, rien à déployer.")
        return _current_stack(cloudformation, name) or {}
    if change_set["Status"] != "CREATE_COMPLETE":
        raise DeployError(f"Jeu de modifications refusé : {change_set.get('StatusReason')}")
    for change in change_set.get("Changes", []):
        print(describe_change(change))
    cloudformation.execute_change_set(StackName=name, ChangeSetName=change_set_name)
    waiter = "stack_create_complete" if creating else "stack_update_complete"
    try:
        cloudformation.get_waiter(waiter).wait(
            StackName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 360}
        )
    except WaiterError as error:
        _print_failures(cloudformation, name)
        raise DeployError(f"Le déploiement de la pile {name} a échoué.") from error
    print(f"Pile {name} : déployée.")
    return _current_stack(cloudformation, name) or {}


def _print_failures(cloudformation: Any, name: str) -> None:
    events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    for event in reversed(events[:50]):
        if event.get("ResourceStatus", "").endswith("_FAILED"):
            reason = event.get("ResourceStatusReason", "")
            print(f"  ! {event['LogicalResourceId']} : {reason}", file=sys.stderr)


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_chalice_files(stage: str, stack: Mapping[str, Any], config_path: Path) -> None:
    """The stack's outputs into the stage's environment, and each function's policy for its mail
    domain."""
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.exists() else {}
    environment = environment_from_outputs(stage, outputs_of(stack))
    _write_json(config_path, merge_environment(config, stage, environment))
    print(f"{config_path.name} : variables de l'étape {stage} mises à jour.")
    mail_domain = parameters_of(stack).get("MailDomain", DEFAULT_MAIL_DOMAIN)
    policies = lambda_policies(stage, mail_domain)
    for function, policy_file in own_policy_files(config, stage).items():
        _write_json(config_path.parent / policy_file, policies[function])
        print(f"{policy_file} : politique IAM de {function} ({stage}) écrite.")


# ---------------------------------------------------------------- command line


def _funder_code(value: str) -> str:
    if not FUNDER_CODE.match(value):
        raise argparse.ArgumentTypeError("2 à 32 caractères parmi a-z, 0-9 et -")
    return value


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m infra.deploy", description="Déploie l'infrastructure d'une étape."
    )
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--region", default=DEFAULT_REGION)
    parser.add_argument("--mail-domain", help="domaine d'envoi des courriels (identité SES)")
    parser.add_argument("--alarm-email", help="adresse abonnée aux alarmes")
    parser.add_argument("--domain-name", help="nom de domaine public du portail")
    parser.add_argument(
        "--certificate-arn", help="certificat ACM du nom de domaine, dans la région us-east-1"
    )
    parser.add_argument(
        "--api-id",
        help="identifiant de l'API créée par chalice deploy (lu par défaut dans "
        ".chalice/deployed/<étape>.json)",
    )
    commands = parser.add_subparsers(dest="command")
    funder = commands.add_parser("funder-access", help="accès d'un financeur au bucket d'échange")
    funder.add_argument("--funder", required=True, type=_funder_code)
    funder.add_argument("--trusted-principal", required=True, help="ARN IAM du financeur")
    return parser.parse_args(argv)


def distribution_domain(cloudformation: Any, cloudfront: Any, name: str) -> str | None:
    """The CloudFront domain name of the stack's distribution, None before it exists."""
    resources = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    distribution_id = next(
        (
            r.get("PhysicalResourceId")
            for r in resources
            if r.get("LogicalResourceId") == "Distribution"
        ),
        None,
    )
    if not distribution_id:  # not created yet (no ApiId), or skipped by the emulator
        return None
    return str(cloudfront.get_distribution(Id=distribution_id)["Distribution"]["DomainName"])


def print_public_address(distribution: str | None, parameters: Mapping[str, str]) -> None:
    if not distribution:
        print(
            "Pas de distribution CloudFront : déployez l'application (chalice deploy), "
            "puis relancez cette commande."
        )
        return
    domain = parameters.get("DomainName")
    if domain:
        print(f"DNS : {domain} CNAME {distribution} (ou alias Route 53), puis https://{domain}/")
    else:
        print(f"Adresse publique : https://{distribution}/ (sans nom de domaine)")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    cloudformation = boto3.session.Session(region_name=args.region).client("cloudformation")
    tags = {"project": "portail-stagiaire", "stage": args.stage}
    try:
        if args.command == "funder-access":
            stack = deploy_stack(
                cloudformation,
                funder_stack_name(args.stage, args.funder),
                FUNDER_TEMPLATE,
                {
                    "Stage": args.stage,
                    "FunderCode": args.funder,
                    "TrustedPrincipalArn": args.trusted_principal,
                },
                capabilities=["CAPABILITY_NAMED_IAM"],
                tags=tags,
            )
            for key, value in outputs_of(stack).items():
                print(f"  {key} = {value}")
            return 0
        stack = deploy_stack(
            cloudformation,
            stack_name(args.stage),
            MAIN_TEMPLATE,
            {
                "Stage": args.stage,
                "MailDomain": args.mail_domain,
                "AlarmEmail": args.alarm_email,
                "ApiId": args.api_id or deployed_api_id(args.stage),
                "DomainName": args.domain_name,
                "CertificateArn": args.certificate_arn,
            },
            tags=tags,
        )
        write_chalice_files(args.stage, stack, CHALICE_CONFIG)
        session = boto3.session.Session(region_name=args.region)
        bucket = outputs_of(stack)["AssetsBucketName"]
        uploaded = upload_static_assets(session.client("s3"), bucket)
        print(f"Fichiers statiques : {uploaded} envoyés dans {bucket}.")
        domain = distribution_domain(
            cloudformation, session.client("cloudfront"), stack_name(args.stage)
        )
        print_public_address(domain, parameters_of(stack))
        return 0
    except (DeployError, ClientError) as error:
        print(f"Échec : {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
