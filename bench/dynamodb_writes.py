"""DynamoDB requests of a real ingestion against moto: are writes batched?

Budget (docs/specs/performance.md): ≥ 20 items per write request on average for a 100,000-line file.
The real FunderFileIngestion runs with the real DynamoDB repositories and the real S3 streaming, in
moto (`mock_aws`, the stack deployed from infra/template.yaml as the tests do); every call PynamoDB
makes is counted by operation. The dossiers the payments name are ingested first, from a dossiers
file, and counted too.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from unittest import mock

from bench.figures import Budget, Figure, Line, Note, format_number
from bench.funder_file_data import (
    FUNDER_CODE,
    GeneratedFile,
    write_dossiers_file,
    write_payments_file,
)
from bench.ingestion import check_dossiers_report, check_payments_report

if TYPE_CHECKING:
    from chalicelib.services.funder_files.report import FileReport

LINES = 100_000
ITEMS_PER_WRITE_BUDGET = Budget("≥", 20)
WRITE_OPERATIONS = frozenset(
    {"BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}
)
READ_OPERATIONS = frozenset({"BatchGetItem", "GetItem", "Query", "Scan", "TransactGetItems"})


def _ingest_from_s3(file: GeneratedFile, file_name: str) -> tuple[Counter[str], float, FileReport]:
    """Drop the file in the exchange bucket, ingest it as the handler does; count the calls."""
    from chalicelib.container import get_container
    from chalicelib.services.funder_files.ingestion import locate
    from tests.support.aws import count_dynamodb_requests

    container = get_container()
    incoming = locate(f"incoming/{FUNDER_CODE}/{file_name}")
    assert incoming is not None
    container.exchange.put(incoming.key, file.path.read_bytes())
    started = time.perf_counter()
    with count_dynamodb_requests() as counts:
        report = container.funder_file_ingestion().ingest(
            incoming, lambda: container.exchange.opener(incoming.key)
        )
    seconds = time.perf_counter() - started
    report.close()
    return counts, seconds, report


@contextlib.contextmanager
def _without_transaction_snapshots() -> Iterator[None]:
    """moto deep-copies every table a TransactWriteItems touches, to roll back a cancelled one:
    a cost that grows with the table at each request (quadratic over a 100,000-line file), which
    DynamoDB does not have. The bench's transactions are never cancelled (fresh tables, and the
    reports are checked), so that copy is skipped; the requests counted are the same."""
    import moto.dynamodb.models as dynamodb_models

    class _NoCopy:
        @staticmethod
        def deepcopy(value: object, memo: object = None) -> object:
            return value

    with mock.patch.object(dynamodb_models, "copy", _NoCopy):
        yield


def _requests(counts: Counter[str], operations: frozenset[str]) -> int:
    return sum(count for operation, count in counts.items() if operation in operations)


def _by_operation(counts: Counter[str]) -> str:
    return ", ".join(f"{operation} {count}" for operation, count in sorted(counts.items()))


def figures() -> Iterator[Line]:
    from moto import mock_aws

    from chalicelib.container import get_container, reset_container
    from chalicelib.services.funders.model import Funder, save_funder
    from chalicelib.store.models import DossierItem, PaymentItem
    from local.resources import create_resources_in_process

    with tempfile.TemporaryDirectory(prefix="bench-dynamodb-") as directory:
        folder = Path(directory)
        payments_file = write_payments_file(folder / "paiements_bench.csv", LINES)
        dossiers_file = write_dossiers_file(folder / "dossiers_bench.csv", payments_file.dossiers)
        reset_container()
        try:
            with mock_aws(), _without_transaction_snapshots():
                create_resources_in_process(stage="test", region="eu-west-3")
                save_funder(get_container().funders, Funder(FUNDER_CODE, "Région du banc d'essai"))

                counts, seconds, report = _ingest_from_s3(dossiers_file, "dossiers_bench.csv")
                check_dossiers_report(report, dossiers_file)
                stored = DossierItem.count(FUNDER_CODE)
                writes = _requests(counts, WRITE_OPERATIONS)
                yield Figure(
                    f"dossiers: items per write request ({format_number(dossiers_file.lines)} "
                    "lines, moto)",
                    stored / writes,
                    "items",
                    ITEMS_PER_WRITE_BUDGET,
                    decimals=1,
                )
                yield Note(
                    f"{format_number(stored)} dossiers stored in {format_number(seconds, 1)} s; "
                    f"requests: {_by_operation(counts)}"
                )

                counts, seconds, report = _ingest_from_s3(payments_file, "paiements_bench.csv")
                check_payments_report(report, payments_file)
                stored = PaymentItem.count(FUNDER_CODE)
                writes = _requests(counts, WRITE_OPERATIONS)
                reads = _requests(counts, READ_OPERATIONS)
                size = format_number(payments_file.lines)
                yield Figure(
                    f"payments: items per write request ({size} lines, moto)",
                    stored / writes,
                    "items",
                    ITEMS_PER_WRITE_BUDGET,
                    decimals=1,
                )
                yield Figure(
                    f"payments: write requests per 1 000 lines ({size} lines)",
                    writes * 1000 / payments_file.lines,
                    "requests",
                    decimals=1,
                )
                yield Note(
                    f"{format_number(stored)} payments stored in {format_number(seconds, 1)} s; "
                    f"{format_number(reads * 1000 / payments_file.lines, 1)} read requests per "
                    f"1 000 lines; requests: {_by_operation(counts)}"
                )
        finally:
            reset_container()
