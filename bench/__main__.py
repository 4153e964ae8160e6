"""`make bench`: every figure of docs/specs/performance.md beside its budget, one line each.

Benchmarks are not tests: a figure over budget reads OVER and a benchmark that cannot run reads
FAILED, but the exit status is always 0.

To add a figure (the payment PDF, the Lambda package...): write `bench/<topic>.py` with a
`figures() -> Iterator[Line]` generator that yields `Figure`s (and `Note`s for context), then add
the module's name to MODULES. Modules are imported only when their turn comes, after the test
stage's environment is set, so chalicelib's settings validate.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import time
import traceback
from datetime import datetime

from bench import environment
from bench.figures import Failure

MODULES = (
    "ingestion",
    "dynamodb_writes",
    "cold_start",
    "hashing",
    "pdf",
    "attestation_pdf",
    "lambda_sizing",
    "load",
    "phone",
    "cost",
)


def _machine() -> str:
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    processor = platform.processor() or platform.machine()
    return (
        f"{platform.platform()}, {processor}, {cpus} CPUs ({usable} usable), "
        f"Python {platform.python_version()}"
    )


def main() -> int:
    environment.apply()
    started = time.perf_counter()
    print(f"Portail stagiaire benchmarks, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"Machine: {_machine()}")
    for name in MODULES:
        print(f"\n[{name}]", flush=True)
        module_started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            for item in module.figures():
                print(item.line(), flush=True)
        except Exception as error:  # a benchmark never fails the build: say so and go on
            print(Failure(name, f"{type(error).__name__}: {error}").line(), flush=True)
            traceback.print_exc(file=sys.stderr)
        print(f"    ({time.perf_counter() - module_started:.0f} s)", flush=True)
    print(f"\nTotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
