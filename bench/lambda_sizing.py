"""Lambda sizing: the login and a funder file's run as they would take at each function's memory.

Lambda gives CPU in proportion to memory: 1,769 MB is one vCPU
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html), so a function of M MB
gets M / 1769 of a vCPU, up to one for single-threaded Python. The work is measured here as CPU
time (`time.process_time`, which the machine's other load does not inflate) and scaled:
time at M MB ≈ CPU time × max(1, 1769 / M). This assumes one of this machine's cores is worth a
Lambda vCPU, and leaves out waiting on AWS (network round trips): it is the CPU floor of the
time, the part that memory buys down. Peak memory (max RSS of a fresh process doing the work)
is printed beside the configured size.

Each measurement runs in a fresh interpreter (`python -m bench.lambda_sizing login|funder-file`)
so that its max RSS is that of one Lambda environment doing that work.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.environment import test_stage_environment
from bench.figures import Budget, Figure, Line, Note

REPOSITORY = Path(__file__).resolve().parent.parent
ONE_VCPU_MB = 1769
LOGINS = 7
FILE_LINES = 100_000
# What a login may take at the API's size: a person waits on it (CPU floor, AWS calls aside).
LOGIN_BUDGET = Budget("≤", 150)
# A 100 000-line funder file must end well inside the function's 300 s timeout.
FILE_BUDGET = Budget("≤", 60)
# Python's arenas, botocore's loaders and the runtime's own use: headroom over the measured peak.
MEMORY_HEADROOM = 1.5


def lambda_config() -> dict[str, Any]:
    return json.loads((REPOSITORY / ".chalice" / "config.json").read_text())


def memory_of(function: str, config: dict[str, Any] | None = None) -> int:
    """The function's memory in the prod stage, by Chalice's lookup order."""
    config = config or lambda_config()
    prod = config["stages"]["prod"]
    for scope in (
        prod.get("lambda_functions", {}).get(function, {}),
        config.get("lambda_functions", {}).get(function, {}),
        prod,
        config,
    ):
        if "lambda_memory_size" in scope:
            return int(scope["lambda_memory_size"])
    return 128  # Chalice's default


def at_memory(cpu_seconds: float, memory_mb: int) -> float:
    return cpu_seconds * max(1.0, ONE_VCPU_MB / memory_mb)


def _max_rss_mib() -> float:
    """This process's peak resident memory. Linux's `ru_maxrss` keeps, across the exec, the peak
    of the process it was forked from: measured from `make bench` after the ingestion figures, it
    read the bench's own 840 MiB. `VmHWM` is the peak of this program's memory only."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _measure_login() -> dict[str, float]:
    """A login of the demo's ready account against the emulator: one Argon2id verification and
    the request around it (session, audit, counters), CPU time per login, median of LOGINS."""
    from chalice.test import Client
    from moto import mock_aws

    from local.demo import READY, load_demo
    from local.resources import create_resources_in_process
    from local.test_stage import TEST_ENVIRONMENT
    from tests.support.aws import run_queue
    from tests.support.web import WebClient

    with mock_aws():
        create_resources_in_process(stage="test", region=TEST_ENVIRONMENT["AWS_REGION"])
        load_demo(say=lambda _: None, wait_for=lambda: run_queue(max_messages=500) and None)
        import app as portal

        times: list[float] = []
        with Client(portal.app, stage_name="test") as client:
            for attempt in range(LOGINS + 1):
                web = WebClient(client, source_ip=f"192.0.2.{10 + attempt}")
                home = web.get("/region-idf/")
                form = {"csrf": home.hidden("csrf"), "username": READY.email}
                started = time.process_time()
                page = web.post("/region-idf/connexion", {**form, "password": READY.password})
                elapsed = time.process_time() - started
                if page.status != 303:
                    raise AssertionError(f"login refused ({page.status})")
                if attempt:  # the first one warms the caches (templates, clients)
                    times.append(elapsed)
    # moto answers in this process: its CPU time counts in, so this is an upper bound.
    return {"cpu_seconds": statistics.median(times)}


def _measure_footprint() -> dict[str, float]:
    """`import app`, the AWS clients the API makes (their service models are most of botocore's
    memory) and one Argon2id hash, without the emulator (moto's memory would count): the API's
    peak, and a bound of the mail functions' (same imports, fewer clients; the security mails'
    function hashes a temporary password too)."""
    import app  # noqa: F401  (the import is what is measured)
    from chalicelib.container import get_container

    container = get_container()
    for service in ("dynamodb", "s3", "sqs", "ses", "secretsmanager"):
        container.client(service)
    container.hasher.hash("mot de passe du banc d'essai")
    return {"max_rss_mib": _max_rss_mib()}


def _measure_funder_file() -> dict[str, float]:
    """A 100 000-line payment file through the whole ingestion, storage faked (its writes are
    network waits on AWS): CPU time of the run."""
    import tempfile

    from bench.fakes import FakePaymentRepository
    from bench.funder_file_data import write_dossiers_file, write_payments_file
    from bench.ingestion import _ingestion, _stored_dossiers, check_payments_report

    with tempfile.TemporaryDirectory() as folder:
        payments = write_payments_file(Path(folder) / "paiements_bench.csv", FILE_LINES)
        dossiers = _stored_dossiers(write_dossiers_file(Path(folder) / "d.csv", FILE_LINES))
        ingest = _ingestion(dossiers, FakePaymentRepository())
        started = time.process_time()
        report = ingest(payments, "paiements_bench.csv")
        cpu = time.process_time() - started
        check_payments_report(report, payments)
    # The peak includes the faked stores (100 000 dossiers and payments in memory), which Lambda
    # keeps in DynamoDB: an upper bound of the function's own.
    return {"cpu_seconds": cpu, "max_rss_mib": _max_rss_mib()}


def _in_fresh_process(what: str) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.lambda_sizing", what],
        cwd=REPOSITORY,
        env=test_stage_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{what}: {result.stderr.strip().splitlines()[-1:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _memory_line(function: str, memory: int, rss: float) -> Note:
    verdict = "OK" if rss * MEMORY_HEADROOM <= memory else "TOO SMALL"
    return Note(
        f"{function}: {memory} MB configured ({memory / ONE_VCPU_MB:.2f} vCPU), peak "
        f"{rss:.0f} MiB measured × {MEMORY_HEADROOM} headroom — {verdict}"
    )


def figures() -> Iterator[Line]:
    config = lambda_config()
    api, funder_files = memory_of("api_handler", config), memory_of("funder_files", config)
    login = _in_fresh_process("login")
    yield Figure("login: CPU time on this machine (median)", login["cpu_seconds"] * 1000, "ms")
    for memory in sorted({128, 512, api, ONE_VCPU_MB}):
        chosen = " (chosen)" if memory == api else ""
        yield Figure(
            f"login at {memory} MB{chosen}",
            at_memory(login["cpu_seconds"], memory) * 1000,
            "ms",
            LOGIN_BUDGET if memory == api else None,
        )
    footprint = _in_fresh_process("footprint")["max_rss_mib"]
    yield _memory_line("api_handler", api, footprint)
    run = _in_fresh_process("funder-file")
    yield Figure(
        f"funder file ({FILE_LINES:,} payment lines): CPU time here".replace(",", " "),
        run["cpu_seconds"],
        "s",
        decimals=1,
    )
    for memory in sorted({512, funder_files, ONE_VCPU_MB}):
        chosen = " (chosen)" if memory == funder_files else ""
        yield Figure(
            f"funder file at {memory} MB{chosen}",
            at_memory(run["cpu_seconds"], memory),
            "s",
            FILE_BUDGET if memory == funder_files else None,
            decimals=1,
        )
    yield _memory_line("funder_files", funder_files, run["max_rss_mib"])
    for function in ("notifications", "security_mails", "mail_events"):
        # The mail functions (and the one reading SES's feedback) do the same imports and a few
        # AWS calls, no hash: the API's peak bounds theirs.
        yield _memory_line(function, memory_of(function, config), footprint)


if __name__ == "__main__":
    from bench import environment

    environment.apply()
    measure = {
        "login": _measure_login,
        "footprint": _measure_footprint,
        "funder-file": _measure_funder_file,
    }[sys.argv[1]]
    print(json.dumps(measure()))
