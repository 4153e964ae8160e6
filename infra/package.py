"""`make package`: the Lambda deployment package of a stage, and its size beside the budget.

`chalice package` bundles every runtime dependency, botocore included (pynamodb needs it). The
Lambda Python runtime already ships boto3 and botocore, so the package leaves them out: they are
30 MB unzipped of the 50 MB budget (docs/specs/performance.md). It also leaves out Pillow's AVIF
codec (8 MB): the portal only writes PNG captchas, and Pillow imports that codec only if present.

Every dependency must come as a manylinux wheel: one that chalice compiled here instead would be
linked against this machine's libraries, not Lambda's, and the package is refused.

Lambda's /var/task is read-only: without bytecode in the package, every cold start compiles each
module it imports (a third of `import app`). The package carries the bytecode of the app's own
modules, unchecked-hash (never compared with a source), compiled by the same Python 3.11 as the
runtime. The libraries' would take the package past the budget.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
BUDGET_UNZIPPED = 50 * MIB
PROVIDED_BY_LAMBDA = ("boto3/", "botocore/", "s3transfer/")
UNUSED = ("PIL/_avif.", "pillow.libs/libavif-")
OWN_CODE = ("app.py", "chalicelib/")
LAMBDA_PYTHON = (3, 11)


def package(stage: str, output: Path) -> Path:
    if output.exists():
        shutil.rmtree(output)
    environment = {
        **os.environ,
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-3"),
    }
    subprocess.run(
        [str(Path(sys.executable).with_name("chalice")), "package", "--stage", stage, str(output)],
        cwd=PROJECT_DIR,
        env=environment,
        check=True,
    )
    fix_log_group_references(output / "sam.json")
    return output / "deployment.zip"


def fix_log_group_references(template_path: Path) -> None:
    """Chalice 1.34 names the API handler's log group `/aws/lambda/${ApiHandler}` while the
    function's logical id is `APIHandler`: CloudFormation would refuse the template. The reference
    is pointed at the function whose logical id differs only by case."""
    template = json.loads(template_path.read_text(encoding="utf-8"))
    resources = template.get("Resources", {})
    by_lower = {name.lower(): name for name in resources}
    changed = False
    for resource in resources.values():
        if resource.get("Type") != "AWS::Logs::LogGroup":
            continue
        name = resource.get("Properties", {}).get("LogGroupName", {})
        sub = name.get("Fn::Sub") if isinstance(name, dict) else None
        found = re.fullmatch(r"/aws/lambda/\$\{(\w+)\}", sub or "")
        if found and found.group(1) not in resources and found.group(1).lower() in by_lower:
            name["Fn::Sub"] = f"/aws/lambda/${{{by_lower[found.group(1).lower()]}}}"
            changed = True
    if changed:
        template_path.write_text(json.dumps(template, indent=2) + "\n", encoding="utf-8")


def without_unneeded_files(archive: Path) -> None:
    """Leaves out what Lambda provides, what the portal never loads, and any bytecode compiled
    on this machine, templates included (chalice copies chalicelib/ as it is): `with_bytecode`
    adds its own."""
    trimmed = archive.with_suffix(".trimmed.zip")
    with (
        zipfile.ZipFile(archive) as source,
        zipfile.ZipFile(trimmed, "w", compression=zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            if (
                "__pycache__/" in item.filename
                or "/templates_bytecode/" in item.filename
                or item.filename.startswith(PROVIDED_BY_LAMBDA + UNUSED)
                or any(
                    item.filename.startswith(name.rstrip("/") + "-")
                    and ".dist-info/" in item.filename
                    for name in PROVIDED_BY_LAMBDA
                )
            ):
                continue
            target.writestr(item, source.read(item.filename))
    trimmed.replace(archive)


def with_bytecode(archive: Path) -> None:
    """Adds `__pycache__/<module>.cpython-311.pyc` beside every module of the app's own code,
    and the page templates compiled (chalicelib/web/rendering.py)."""
    if sys.version_info[:2] != LAMBDA_PYTHON:
        raise SystemExit(
            "Le paquet se construit avec Python 3.11, la version du runtime Lambda "
            f"(ici {sys.version_info.major}.{sys.version_info.minor})."
        )
    with tempfile.TemporaryDirectory() as folder:
        unpacked = Path(folder) / "package"
        with zipfile.ZipFile(archive) as source:
            source.extractall(unpacked, [n for n in source.namelist() if n.startswith(OWN_CODE)])
        compiled = all(
            compileall.compile_file(
                module,
                quiet=2,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
            for module in sorted(unpacked.rglob("*.py"))
        )
        if not compiled:
            raise SystemExit("Un module du paquet ne compile pas : voir ci-dessus.")
        from chalicelib.web.rendering import compile_templates

        web = unpacked / "chalicelib" / "web"
        if (web / "templates").is_dir():
            compile_templates(web / "templates", web / "templates_bytecode")
        with zipfile.ZipFile(archive, "a", compression=zipfile.ZIP_DEFLATED) as target:
            for pyc in sorted(unpacked.rglob("*.pyc")):
                target.write(pyc, pyc.relative_to(unpacked).as_posix())
            for compiled_template in sorted((web / "templates_bytecode").glob("*.cache")):
                target.write(compiled_template, compiled_template.relative_to(unpacked).as_posix())


def built_from_source(archive: Path) -> list[str]:
    """The distributions whose wheel is tagged for this machine (`linux_x86_64`) rather than a
    manylinux platform: chalice found no wheel the Lambda runtime accepts and compiled one here,
    against this machine's libraries."""
    local: list[str] = []
    with zipfile.ZipFile(archive) as source:
        for name in source.namelist():
            if name.endswith(".dist-info/WHEEL"):
                tags = [
                    line.split(":", 1)[1].strip()
                    for line in source.read(name).decode("utf-8").splitlines()
                    if line.startswith("Tag:")
                ]
                if any(
                    tag.endswith("-linux_x86_64") or tag.endswith("-linux_aarch64") for tag in tags
                ):
                    local.append(name.split("/", 1)[0].removesuffix(".dist-info"))
    return sorted(local)


def sizes(archive: Path) -> tuple[int, int]:
    with zipfile.ZipFile(archive) as source:
        return archive.stat().st_size, sum(item.file_size for item in source.infolist())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Construit le paquet Lambda d'une étape.")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--output", type=Path, default=PROJECT_DIR / "build" / "package")
    args = parser.parse_args(argv)
    archive = package(args.stage, args.output)
    local = built_from_source(archive)
    if local:
        print(
            "Compilé sur cette machine faute de roue manylinux compatible avec Lambda : "
            + ", ".join(local)
            + ". Choisir une version qui publie une roue manylinux2014 (requirements.txt).",
            file=sys.stderr,
        )
        return 1
    without_unneeded_files(archive)
    with_bytecode(archive)
    zipped, unzipped = sizes(archive)
    verdict = "OK" if unzipped <= BUDGET_UNZIPPED else "AU-DESSUS DU BUDGET"
    print(f"Paquet : {archive}")
    print(
        f"Taille : {zipped / MIB:.1f} Mio compressé, {unzipped / MIB:.1f} Mio décompressé "
        f"(budget ≤ {BUDGET_UNZIPPED / MIB:.0f} Mio décompressé) — {verdict}"
    )
    return 0 if unzipped <= BUDGET_UNZIPPED else 1


if __name__ == "__main__":
    sys.exit(main())
