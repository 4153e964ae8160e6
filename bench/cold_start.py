"""Cold start: `import app` in a fresh interpreter, against the floor of its three big dependencies.

Budget (performance.md): `import app` ≤ 1.3 × `import boto3, chalice, pynamodb`, median of 7 fresh
processes each, same interpreter, same run. The two are alternated so they share the machine's
noise, after one discarded pair that warms the file cache. A breakdown from `-X importtime` then
names what `import app` loads beyond the floor, by top-level package.
"""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from bench.environment import test_stage_environment
from bench.figures import Budget, Figure, Line, Note, format_number

REPOSITORY = Path(__file__).resolve().parent.parent
APP = "import app"
FLOOR = "import boto3, chalice, pynamodb"
PROCESSES = 7
RATIO_BUDGET = Budget("≤", 1.3, decimals=2)
BREAKDOWN_PACKAGES = 8


def _run(code: str, *options: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, *options, "-c", code],
        cwd=REPOSITORY,
        env=test_stage_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"`{code}` failed: {result.stderr.strip().splitlines()[-1:]}")
    return result


def _seconds(code: str) -> float:
    started = time.perf_counter()
    _run(code)
    return time.perf_counter() - started


def _self_microseconds(code: str) -> dict[str, int]:
    """Module -> its own import time in µs, from `python -X importtime` (stderr)."""
    times: dict[str, int] = {}
    for row in _run(code, "-X", "importtime").stderr.splitlines():
        if not row.startswith("import time:") or "self [us]" in row:
            continue
        own, _, name = row[len("import time:") :].split("|")
        times[name.strip()] = int(own)
    return times


def _only_in(
    loaded: dict[str, int], other: dict[str, int]
) -> tuple[int, list[tuple[str, int, int]]]:
    """Total µs `loaded` spends on modules `other` does not load, and the heaviest top-level
    packages among them as (package, µs, module count)."""
    by_package: dict[str, list[int]] = defaultdict(list)
    for module, own in loaded.items():
        if module not in other:
            by_package[module.split(".")[0]].append(own)
    ranked = sorted(
        ((package, sum(times), len(times)) for package, times in by_package.items()),
        key=lambda entry: entry[1],
        reverse=True,
    )
    return sum(total for _, total, _ in ranked), ranked[:BREAKDOWN_PACKAGES]


def _breakdown(subject: str, loaded: dict[str, int], other: dict[str, int], what: str) -> Note:
    total, ranked = _only_in(loaded, other)
    packages = ", ".join(
        f"{package} {format_number(own / 1000, 1)} ms ({count} module{'s' * (count > 1)})"
        for package, own, count in ranked
    )
    return Note(f"{subject} spends {format_number(total / 1000, 1)} ms on {what}: {packages}")


def _compile_the_app() -> None:
    """The app's bytecode, as `make package` ships it (infra/package.py) and as pip wrote it for
    the libraries of the floor: with PYTHONDONTWRITEBYTECODE set, importing would not write it,
    and every run would compile the app's sources while the floor's come compiled."""
    compileall.compile_dir(REPOSITORY / "chalicelib", quiet=2)
    compileall.compile_file(REPOSITORY / "app.py", quiet=2)


def figures() -> Iterator[Line]:
    _compile_the_app()
    # One discarded pair: warms the file cache.
    _seconds(APP)
    _seconds(FLOOR)
    app_times: list[float] = []
    floor_times: list[float] = []
    for _ in range(PROCESSES):
        app_times.append(_seconds(APP))
        floor_times.append(_seconds(FLOOR))
    app, floor = statistics.median(app_times), statistics.median(floor_times)
    yield Figure(f"cold start: {APP}", app * 1000, "ms")
    yield Figure(f"cold start: floor ({FLOOR})", floor * 1000, "ms")
    yield Figure(
        f"cold start: app / floor (medians of {PROCESSES} processes each)",
        app / floor,
        "×",
        RATIO_BUDGET,
        decimals=2,
    )
    app_modules, floor_modules = _self_microseconds(APP), _self_microseconds(FLOOR)
    yield Note("-X importtime, self times of one run each:")
    yield _breakdown(f"`{APP}`", app_modules, floor_modules, "modules the floor does not load")
    yield _breakdown(
        "the floor", floor_modules, app_modules, "modules `import app` does not load (yet)"
    )
