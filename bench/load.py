"""Load: concurrent simulated trainees on the local stack while a payment file lands.

Budget (docs/specs/performance.md): requests per second and p50/p95/p99 latency printed; zero
errors. The local stack (local/background.py: the emulator, the app behind its front, the queue
poller, on free loopback ports) serves the demo data; Locust (bench/load_users.py, in its own
process) signs trainees in and has them read « Mes formations », a payment's detail, its PDF and
« Mes messages », while a 2,000-line payment file for the demo dossiers is dropped into the exchange
bucket and processed. Bounded in users, requests and seconds; stops by itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench.figures import Budget, Figure, Line, Note, format_number

USERS = 10
SECONDS = 40
MAX_REQUESTS = 6000
PAYMENT_LINES = 2000
FUNDER = "region-idf"
ERRORS_BUDGET = Budget("≤", 0)
PAYMENT_HEADER = (
    "numero_dossier;reference_paiement;date_mise_en_paiement;periode_debut;periode_fin;"
    "element;libelle;taux;jours;diviseur;montant"
)


def _payment_file(folder: Path) -> Path:
    """Payments for the demo dossiers of the funder, new references: what a payment day brings."""
    from local.demo import DEMO_DIR

    rows = (DEMO_DIR / f"dossiers_{FUNDER}.csv").read_text(encoding="utf-8").splitlines()[1:]
    numbers = [row.split(";", 1)[0] for row in rows if row.strip()]
    lines = [
        f"{numbers[index % len(numbers)]};BENCH-{index:06d};20/11/2026;01/10/2026;31/10/2026;"
        "REMUNERATION;;310,39;14;30;144,85"
        for index in range(PAYMENT_LINES)
    ]
    path = folder / "paiements_banc-de-charge.csv"
    path.write_text("\n".join([PAYMENT_HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def _report_seen(aws_url: str, bucket: str, key: str, seconds: float) -> bool:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=aws_url,
        region_name="eu-west-3",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"):
            return True
        time.sleep(1)
    return False


def figures() -> Iterator[Line]:
    from local.background import PROJECT_DIR, background_stack, child_environment

    with tempfile.TemporaryDirectory(prefix="bench-load-") as directory:
        folder = Path(directory)
        payments = _payment_file(folder)
        environment = {"RATE_LIMIT_MULTIPLIER": "50"}
        with background_stack(folder / "outbox", folder / "stack.log", environment) as stack:
            load = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.load_users",
                    stack.url,
                    "--users",
                    str(USERS),
                    "--seconds",
                    str(SECONDS),
                    "--max-requests",
                    str(MAX_REQUESTS),
                ],
                cwd=PROJECT_DIR,
                env=child_environment(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(3)  # the trainees are signed in and reading when the file lands
            drop = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "chalicelib.admin",
                    "--endpoint-url",
                    stack.aws_url,
                    "drop",
                    str(payments),
                    "--funder",
                    FUNDER,
                ],
                cwd=PROJECT_DIR,
                env=child_environment(),
                capture_output=True,
                text=True,
                timeout=120,
            )
            try:
                output, errors = load.communicate(timeout=SECONDS + 120)
            except subprocess.TimeoutExpired:
                load.kill()
                raise
            if load.returncode != 0 or not output.strip():
                raise RuntimeError(f"Locust a échoué : {errors[-2000:]}")
            result = json.loads(output.strip().splitlines()[-1])
            config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
            bucket = config["stages"]["local"]["environment_variables"]["EXCHANGE_BUCKET"]
            # The path docs/specs/funder-files.md publishes (fresh stack: no earlier report there).
            report_key = f"reports/{FUNDER}/{payments.name}.report.csv"
            processed = drop.returncode == 0 and _report_seen(
                stack.aws_url, bucket, report_key, 180
            )

    yield Figure(
        f"load: requests per second ({USERS} trainees, local stack)",
        result["requests_per_second"],
        "req/s",
        decimals=1,
    )
    for percentile in ("p50", "p95", "p99"):
        yield Figure(f"load: {percentile} latency", result[f"{percentile}_ms"], "ms")
    yield Figure("load: errors", result["failures"], "errors", ERRORS_BUDGET)
    yield Note(
        f"{format_number(result['requests'])} requests in {format_number(result['seconds'], 1)} s"
        f"; payment file of {format_number(PAYMENT_LINES)} lines dropped meanwhile: "
        + (
            "processed, report written"
            if processed
            else f"NOT processed ({drop.returncode}: {(drop.stdout + drop.stderr)[-300:]})"
        )
    )
    for error, count in result["errors"].items():
        yield Note(f"error ×{count}: {error}")
