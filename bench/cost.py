"""What a month costs: 100 000 trainees × 4 visits, plus one 100 000-line payment file.

Counted, not guessed, where the code decides: the DynamoDB request units of each page of a visit
(a fresh process of the app against the local stack's emulator, every PynamoDB call counted) and
of each line of a payment file (ingested under moto), the Lambda duration of each (wall time of
a warm request, at the memory .chalice/config.json gives the function), the bytes of each page
(compressed as API Gateway sends them) and of the built assets. Assumptions are named constants.

Prices: the public list prices of Europe (Paris), eu-west-3, the region the portal is deployed
in, in USD before tax, first pricing tier, no free tier. Each constant names its source and the
date it was read; the README (« Performances ») repeats them. AWS's own pricing pages render
their tables with JavaScript, so the stored copies reachable from this machine show no Paris
figure: where a Paris figure was found, it comes from the AWS Price List API or an AWS bill as
quoted by a public document, and where none was found the constant says so.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.figures import Figure, Line, Note, format_number

REPOSITORY = Path(__file__).resolve().parent.parent
PRICES_DATE = "2026-12-06"  # when these constants were last checked
REGION = "eu-west-3"
# Lambda, x86, first tier. Paris is not among the regions whose duration price differs from the
# base one: the Price List API gives EUW3-Lambda-GB-Second-ARM = 0.0000133334 USD, the same as
# US East, hence x86 at the base 0.0000166667 (AWS Price List API, usage types EUW3-Request and
# EUW3-Lambda-GB-Second-ARM, as quoted in a public study of 2026-09-07;
# aws.amazon.com/lambda/pricing).
LAMBDA_PER_MILLION_REQUESTS = 0.20
LAMBDA_PER_GB_SECOND = 0.0000166667
# DynamoDB on demand, Standard table class, Paris: EUW3-WriteRequestUnits 0.7423 USD and
# EUW3-ReadRequestUnits 0.1487 USD per million (AWS Price List API, read 2026-09-07, as quoted
# in a public study; aws.amazon.com/dynamodb/pricing/on-demand). US East: 0.625 / 0.125.
DYNAMODB_PER_MILLION_WRU = 0.7423
DYNAMODB_PER_MILLION_RRU = 0.1487
# API Gateway REST, first 333 million calls a month: 3.50 USD per million is the US East figure
# (AWS whitepaper « Best Practices for Designing Amazon API Gateway Private APIs », cost
# optimization, table 4; aws.amazon.com/api-gateway/pricing). NO PARIS FIGURE WAS FOUND from
# this machine: Paris may be dearer by a few percent. To check before quoting the bill.
API_GATEWAY_PER_MILLION = 3.50
# CloudFront is priced by edge location, not by the API's region: Europe, first 10 TB out
# 0.085 USD per GB, HTTPS 0.0120 USD per 10 000 requests (an AWS bill for a site in eu-west-3,
# usage types EU-DataTransfer-Out-Bytes and EU-Requests-Tier2-HTTPS, published 2019-07-24;
# aws.amazon.com/cloudfront/pricing). Not seen more recent: to check before quoting the bill.
CLOUDFRONT_PER_GB = 0.085
CLOUDFRONT_PER_10K_HTTPS = 0.012
# S3 Standard, Paris: EUW3-Requests-Tier1 0.0053 USD per 1 000 PUT, COPY, POST or LIST and
# EUW3-Requests-Tier2 0.0042 USD per 10 000 GET (the same AWS bill, 2019-07-24;
# aws.amazon.com/s3/pricing; not seen more recent). US East: 0.005 / 0.0004 per 1 000.
S3_PER_1K_GET = 0.00042
S3_PER_1K_PUT = 0.0053
# SES, outbound mail à la carte: 0.10 USD per 1 000 (AWS Price List API for AmazonSES in US East,
# publication of 2026-07-22, as quoted by a public catalogue; aws.amazon.com/ses/pricing). SES
# has always shown one price for all its regions: to confirm for Paris. Since 2026-07-21 SES
# also sells plans (Essentials, Pro, Enterprise): à la carte is kept here, the portal needs none
# of their extras.
SES_PER_1K = 0.10
# SQS standard queues, Paris: EUW3-Requests-Tier1 0.40 USD per million (AWS Price List API,
# read 2026-09-07, as quoted in a public study; aws.amazon.com/sqs/pricing).
SQS_PER_MILLION = 0.40

TRAINEES = 100_000
VISITS_PER_TRAINEE = 4
PAYMENT_LINES = 100_000
MEASURED_LINES = 2_000
# Assumptions (not decided by the code): a visit opens these pages; one visit in four finds the
# browser's cache empty; half the visits download one PDF; every payment line mails its trainee.
COLD_VISIT_SHARE = 0.25
PDF_PER_VISIT = 0.5
MAILS_PER_PAYMENT_LINE = 1.0
CHALICE_DEFAULT_MEMORY_MB = 128
FUNDER = "region-idf"

COUNT_PAGES = """
import json, sys, time, gzip
from pynamodb.connection.base import Connection
units = {"wru": 0.0, "rru": 0.0}
original = Connection._make_api_call
def counting(self, operation, kwargs, *args, **more):
    # On-demand units for items under 1 KB (writes) and 4 KB (reads); PynamoDB reads are
    # eventually consistent (half a unit) unless asked otherwise.
    if operation == "BatchWriteItem":
        units["wru"] += sum(len(v) for v in kwargs["RequestItems"].values())
    elif operation == "TransactWriteItems":
        units["wru"] += 2 * len(kwargs["TransactItems"])
    elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
        units["wru"] += 1
    elif operation == "BatchGetItem":
        units["rru"] += 0.5 * sum(len(v["Keys"]) for v in kwargs["RequestItems"].values())
    elif operation == "TransactGetItems":
        units["rru"] += 2 * len(kwargs["TransactItems"])
    elif operation in ("GetItem", "Query", "Scan"):
        units["rru"] += 1 if kwargs.get("ConsistentRead") else 0.5
    return original(self, operation, kwargs, *args, **more)
Connection._make_api_call = counting
import app
from bench.lambda_context import LambdaContext
pages = json.loads(sys.argv[1])
result = {}
for name, event in pages.items():
    app.app(event, LambdaContext())  # warm
    units.update(wru=0.0, rru=0.0)
    started = time.perf_counter()
    response = app.app(event, LambdaContext())
    seconds = time.perf_counter() - started
    body = response["body"].encode() if not response.get("isBase64Encoded") else b""
    if response["statusCode"] >= 400:
        raise SystemExit(f"{name}: status {response['statusCode']}")
    result[name] = dict(units, seconds=seconds, bytes=len(gzip.compress(body)))
print(json.dumps(result))
"""


@dataclass(frozen=True)
class Unit:
    wru: float
    rru: float
    seconds: float
    bytes: int = 0


def _memory_mb(function: str = "api_handler") -> int:
    config = json.loads((REPOSITORY / ".chalice" / "config.json").read_text())
    prod = config.get("stages", {}).get("prod", {})
    for scope in (
        prod.get("lambda_functions", {}).get(function, {}),
        prod,
        config.get("lambda_functions", {}).get(function, {}),
        config,
    ):
        if "lambda_memory_size" in scope:
            return int(scope["lambda_memory_size"])
    return CHALICE_DEFAULT_MEMORY_MB


def _login_event(cookie_token: str) -> dict[str, object]:
    from bench.cold_start import proxy_event
    from local.demo import READY

    event = proxy_event(
        f"/{FUNDER}/connexion",
        "/{funder_code}/connexion",
        f"csrf={cookie_token}",
        funder_code=FUNDER,
    )
    from urllib.parse import urlencode

    body = urlencode({"csrf": cookie_token, "username": READY.email, "password": READY.password})
    event["httpMethod"] = "POST"
    event["requestContext"]["httpMethod"] = "POST"  # type: ignore[index]
    event["body"] = body
    for headers in (event["headers"], event["multiValueHeaders"]):
        content_type = "application/x-www-form-urlencoded"
        headers["Content-Type"] = content_type if headers is event["headers"] else [content_type]  # type: ignore[index]
    return event


def _visit_units() -> dict[str, Unit]:
    from bench.cold_start import proxy_event, stack_environment
    from bench.phone import _sign_in
    from local.background import background_stack

    with tempfile.TemporaryDirectory(prefix="portail-cost-") as scratch:
        scratch_dir = Path(scratch)
        with background_stack(scratch_dir / "outbox", scratch_dir / "stack.log") as stack:
            visit = _sign_in(stack.url)
            environment = stack_environment(stack.url, stack.aws_url)
            pages = {
                "Identification": proxy_event(f"/{FUNDER}/", "/{funder_code}", funder_code=FUNDER),
                "login": _login_event("bench-csrf-token"),
                "Mes formations": proxy_event("/formations", "/formations", visit.cookie),
                "payment detail": proxy_event(
                    visit.payment_path, "/formations/paiement", visit.cookie
                ),
                "Mes messages": proxy_event("/messages", "/messages", visit.cookie),
            }
            result = subprocess.run(
                [sys.executable, "-c", COUNT_PAGES, json.dumps(pages)],
                cwd=REPOSITORY,
                env=environment,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise RuntimeError(result.stderr.strip().splitlines()[-3:])
    # The last line: Powertools writes its logs and metrics to stdout before it.
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    return {name: Unit(**values) for name, values in measured.items()}


def _line_units() -> Unit:
    """Units and seconds per line of a payment file, ingested under moto."""
    import time

    from moto import mock_aws
    from pynamodb.connection.base import Connection

    from bench.dynamodb_writes import _ingest_from_s3
    from bench.funder_file_data import FUNDER_CODE, write_dossiers_file, write_payments_file
    from chalicelib.container import get_container, reset_container
    from chalicelib.services.funders.model import Funder, save_funder
    from local.resources import create_resources_in_process

    wru = rru = 0.0
    original = Connection._make_api_call

    def counting(self: Connection, operation: str, kwargs: dict, *args: object) -> object:  # type: ignore[type-arg]
        nonlocal wru, rru
        if operation == "BatchWriteItem":
            wru += sum(len(v) for v in kwargs["RequestItems"].values())
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            wru += 1
        elif operation == "TransactWriteItems":
            wru += 2 * len(kwargs["TransactItems"])
        elif operation == "BatchGetItem":
            rru += 0.5 * sum(len(v["Keys"]) for v in kwargs["RequestItems"].values())
        elif operation in ("GetItem", "Query"):
            rru += 1 if kwargs.get("ConsistentRead") else 0.5
        return original(self, operation, kwargs, *args)

    with tempfile.TemporaryDirectory(prefix="bench-cost-") as directory:
        folder = Path(directory)
        payments = write_payments_file(folder / "paiements_cout.csv", MEASURED_LINES)
        dossiers = write_dossiers_file(folder / "dossiers_cout.csv", payments.dossiers)
        reset_container()
        try:
            with mock_aws():
                create_resources_in_process(stage="test", region="eu-west-3")
                save_funder(get_container().funders, Funder(FUNDER_CODE, "Région du coût"))
                _ingest_from_s3(dossiers, "dossiers_cout.csv")
                Connection._make_api_call = counting  # type: ignore[method-assign]
                try:
                    started = time.perf_counter()
                    _ingest_from_s3(payments, "paiements_cout.csv")
                    seconds = time.perf_counter() - started
                finally:
                    Connection._make_api_call = original  # type: ignore[method-assign]
        finally:
            reset_container()
    lines = payments.lines
    return Unit(wru=wru / lines, rru=rru / lines, seconds=seconds / lines)


def _static_bytes() -> tuple[int, int]:
    """Bytes and files of the assets a cold visit fetches (brotli where the build made it)."""
    static = REPOSITORY / "chalicelib" / "web" / "static"
    files = [
        static / "dsfr" / "dsfr.min.css",
        static / "app.css",
        static / "dsfr" / "favicon" / "favicon.svg",
        *sorted((static / "dsfr" / "fonts").glob("*.woff2")),
    ]
    total = 0
    for path in files:
        compressed = path.with_name(path.name + ".br")
        total += (compressed if compressed.is_file() else path).stat().st_size
    return total, len(files)


def figures() -> Iterator[Line]:
    pages = _visit_units()
    line = _line_units()
    memory_gb = _memory_mb() / 1024
    file_memory_gb = _memory_mb("funder_files") / 1024
    visits = TRAINEES * VISITS_PER_TRAINEE
    visit_wru = sum(page.wru for page in pages.values())
    visit_rru = sum(page.rru for page in pages.values())
    visit_gb_s = sum(max(page.seconds, 0.001) for page in pages.values()) * memory_gb
    html_bytes = sum(page.bytes for page in pages.values())
    static_bytes, static_files = _static_bytes()
    yield Note(
        "per visit ("
        + ", ".join(
            f"{name} {format_number(p.wru, 1)} WRU {format_number(p.rru, 1)} RRU "
            f"{format_number(p.seconds * 1000)} ms"
            for name, p in pages.items()
        )
        + f"); per payment line {format_number(line.wru, 2)} WRU {format_number(line.rru, 2)} RRU "
        f"{format_number(line.seconds * 1000, 2)} ms; memory {_memory_mb()} / "
        f"{_memory_mb('funder_files')} MB"
    )
    requests = visits * len(pages)
    bill = {
        "Lambda": requests * LAMBDA_PER_MILLION_REQUESTS / 1e6
        + visits * visit_gb_s * LAMBDA_PER_GB_SECOND
        + PAYMENT_LINES * line.seconds * file_memory_gb * LAMBDA_PER_GB_SECOND,
        "DynamoDB": (visits * visit_wru + PAYMENT_LINES * line.wru) * DYNAMODB_PER_MILLION_WRU / 1e6
        + (visits * visit_rru + PAYMENT_LINES * line.rru) * DYNAMODB_PER_MILLION_RRU / 1e6,
        "API Gateway": requests * API_GATEWAY_PER_MILLION / 1e6,
        "CloudFront": (
            visits * (html_bytes + COLD_VISIT_SHARE * static_bytes) / 1e9 * CLOUDFRONT_PER_GB
            + visits
            * (len(pages) + COLD_VISIT_SHARE * static_files)
            / 1e4
            * CLOUDFRONT_PER_10K_HTTPS
        ),
        "S3": visits * PDF_PER_VISIT * S3_PER_1K_GET / 1e3 + 3 * S3_PER_1K_PUT / 1e3,
        "SES": PAYMENT_LINES * MAILS_PER_PAYMENT_LINE * SES_PER_1K / 1e3,
        "SQS": 3 * PAYMENT_LINES * MAILS_PER_PAYMENT_LINE * SQS_PER_MILLION / 1e6,
    }
    for service, dollars in bill.items():
        yield Figure(f"monthly cost: {service}", dollars, "USD", decimals=2)
    yield Figure(
        f"monthly cost, {format_number(TRAINEES)} trainees × {VISITS_PER_TRAINEE} visits + "
        f"{format_number(PAYMENT_LINES)}-line file",
        sum(bill.values()),
        "USD",
        decimals=0,
        note=f"{REGION} list prices checked {PRICES_DATE} (sources in bench/cost.py)",
    )
