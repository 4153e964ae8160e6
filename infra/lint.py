"""`make lint`'s infrastructure part: cfn-lint with the project's rules (infra/lint_rules) on
infra/*.yaml and on the template `chalice package` generates for prod, then what no single
template shows: the SQS queues live in infra/template.yaml, the functions that consume them in
Chalice's config.

    python -m infra.lint
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.policy import CONSUMED_QUEUE, FUNCTIONS

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "infra" / "lint_rules"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
MAIN_TEMPLATE = ROOT / "infra" / "template.yaml"
REGION = "eu-west-3"
LINTED_STAGE = "prod"
# https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
VISIBILITY_TO_TIMEOUT = 6
CHALICE_DEFAULT_TIMEOUT = 60


def function_setting(config: Mapping[str, Any], stage: str, function: str, key: str) -> Any:
    """A per-function setting by Chalice's lookup order: the stage's function, the function,
    the stage, the top level."""
    stage_config = config.get("stages", {}).get(stage, {})
    for scope in (
        stage_config.get("lambda_functions", {}).get(function, {}),
        config.get("lambda_functions", {}).get(function, {}),
        stage_config,
        config,
    ):
        if key in scope:
            return scope[key]
    return None


def _queue_properties(template: Mapping[str, Any], suffix: str) -> dict[str, Any] | None:
    wanted = f"portail-stagiaire-${{Stage}}-{suffix}"
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        name = properties.get("QueueName")
        if (
            resource.get("Type") == "AWS::SQS::Queue"
            and isinstance(name, dict)
            and name.get("Fn::Sub") == wanted
        ):
            return properties
    return None


def _has_log_group(template: Mapping[str, Any], log_group: str) -> bool:
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        name = properties.get("LogGroupName")
        text = name.get("Fn::Sub") if isinstance(name, dict) else name
        if resource.get("Type") == "AWS::Logs::LogGroup" and text == log_group:
            return properties.get("RetentionInDays") is not None
    return False


def cross_template_problems(
    config: Mapping[str, Any], template: Mapping[str, Any], stage: str = LINTED_STAGE
) -> list[str]:
    """Each function's sizing in Chalice's config against the queues of infra/template.yaml:
    explicit memory, a log retention (the API's group is the template's, see there), and each
    consumed queue's visibility timeout at least six times its consumer's timeout."""
    problems: list[str] = []
    for function in FUNCTIONS:
        if function_setting(config, stage, function, "lambda_memory_size") is None:
            problems.append(f"{function} : pas de lambda_memory_size dans .chalice/config.json.")
        if function == "api_handler":
            if not _has_log_group(template, "/aws/lambda/portail-stagiaire-${Stage}"):
                problems.append("api_handler : pas de groupe de journaux avec rétention.")
        elif function_setting(config, stage, function, "log_retention_in_days") is None:
            problems.append(f"{function} : pas de log_retention_in_days.")
    for function, suffix in CONSUMED_QUEUE.items():
        queue = _queue_properties(template, suffix)
        if queue is None:
            problems.append(f"{function} : la file {suffix} n'est pas dans le modèle.")
            continue
        timeout = function_setting(config, stage, function, "lambda_timeout")
        timeout = CHALICE_DEFAULT_TIMEOUT if timeout is None else int(timeout)
        visibility = int(queue.get("VisibilityTimeout", 30))
        if visibility < VISIBILITY_TO_TIMEOUT * timeout:
            problems.append(
                f"{function} : la file {suffix} a un délai de visibilité de {visibility} s, moins "
                f"de {VISIBILITY_TO_TIMEOUT} × le délai de la fonction ({timeout} s)."
            )
    return problems


def cfn_lint(*templates: Path) -> int:
    cfn_lint_command = str(Path(sys.executable).with_name("cfn-lint"))
    command = [cfn_lint_command, "--regions", REGION, "--append-rules", str(RULES)]
    return subprocess.run([*command, "--", *map(str, templates)], check=False).returncode


def main() -> int:
    from infra.package import package
    from local.resources import load_template

    status = cfn_lint(*sorted((ROOT / "infra").glob("*.yaml")))
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "package"
        package(LINTED_STAGE, output)
        status |= cfn_lint(output / "sam.json")
    config = json.loads(CHALICE_CONFIG.read_text(encoding="utf-8"))
    problems = cross_template_problems(config, load_template(MAIN_TEMPLATE))
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if status or problems else 0


if __name__ == "__main__":
    sys.exit(main())
