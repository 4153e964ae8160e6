"""Cold start: `import app` in a fresh interpreter, against the floor of its three big dependencies.

Budget (docs/specs/performance.md): `import app` ≤ 1.3 × `import boto3, chalice, pynamodb`, median
of 7 fresh processes each, same interpreter, same run. The two are alternated so they share the
machine's noise, after one discarded pair that warms the file cache. A breakdown from `-X
importtime` then names what `import app` loads beyond the floor, by top-level package.
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
    """The app's bytecode and compiled templates, as `make package` ships them (infra/package.py)
    and as pip wrote it for the libraries of the floor: with PYTHONDONTWRITEBYTECODE set,
    importing would not write it, and every run would compile the app's sources while the
    floor's come compiled."""
    compileall.compile_dir(REPOSITORY / "chalicelib", quiet=2)
    compileall.compile_file(REPOSITORY / "app.py", quiet=2)
    from chalicelib.web.rendering import compile_templates

    compile_templates()  # the page templates too, as infra/package.py ships them


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
    yield _class_building_note()
    yield from lived_figures()


# What `import app` spends building classes: dataclasses generate their methods with exec() at
# class creation (Python 3.11 compiles one snippet per method), a cost the floor hardly pays.
CLASS_BUILDING = """
import dataclasses, json, time
spent, count = [0.0], [0]
build = dataclasses._process_class
def timed(cls, *args, **kwargs):
    started = time.perf_counter()
    try:
        return build(cls, *args, **kwargs)
    finally:
        spent[0] += time.perf_counter() - started
        count[0] += 1
dataclasses._process_class = timed
started = time.perf_counter()
import app
print(json.dumps([time.perf_counter() - started, spent[0], count[0]]))
"""


def _class_building_note() -> Note:
    import json

    runs = [json.loads(_run(CLASS_BUILDING).stdout) for _ in range(3)]
    total, spent, count = (statistics.median(run[i] for run in runs) for i in range(3))
    return Note(
        f"`{APP}` builds {count:.0f} dataclasses: {format_number(spent * 1000, 1)} ms of its "
        f"{format_number(total * 1000, 1)} ms (medians of 3, timed inside the process)"
    )


# Cold start as lived: import app + its first request, against the local emulator --------------

LIVED_BUDGET = Budget("≤", 1.3, decimals=2)
WARM_BUDGET_MS = Budget("≤", 30)
WARM_REQUESTS = 15
FUNDER = "region-idf"

# A fresh interpreter that does what a cold Lambda does: import the handler's module, then answer
# one API Gateway proxy event. The context comes from a module that imports nothing: the measured
# process must not load the bench's own imports (subprocess, statistics, local...), which the
# floor does not load and a Lambda never would. Prints the clock once the answer is ready: the
# trainee waits until then, not for the interpreter's exit, which a Lambda never goes through
# (the process's whole life is printed beside it). A page that is not a 200 fails.
FIRST_REQUEST = """
import json, sys, time
import app
from bench.lambda_context import LambdaContext
response = app.app(json.loads(sys.argv[1]), LambdaContext())
if response["statusCode"] != 200:
    raise SystemExit(f"status {response['statusCode']}")
print(time.time())
"""
# The floor: the three big imports and one DynamoDB GetItem, the least any page does.
FLOOR_REQUEST = """
import sys, time
import boto3, chalice, pynamodb
boto3.client("dynamodb").get_item(
    TableName=sys.argv[1], Key={"kind": {"S": "funder"}, "funder_code": {"S": sys.argv[2]}}
)
print(time.time())
"""
# One process, each page served once to warm it, then WARM_REQUESTS times: median CPU time.
WARM_REQUESTS_CODE = """
import json, statistics, sys, time
import app
from bench.lambda_context import LambdaContext
events = json.loads(sys.argv[1])
medians = {}
for name, event in events.items():
    app.app(event, LambdaContext())
    times = []
    for _ in range(int(sys.argv[2])):
        started = time.process_time()
        response = app.app(event, LambdaContext())
        times.append(time.process_time() - started)
        if response["statusCode"] != 200:
            raise SystemExit(f"{name}: status {response['statusCode']}")
    medians[name] = statistics.median(times)
print(json.dumps(medians))
"""


def proxy_event(
    address: str, resource: str, cookie: str | None = None, **path_parameters: str
) -> dict[str, object]:
    """The API Gateway REST proxy event of a browser's GET of `address` (path?query)."""
    from urllib.parse import parse_qs

    path, _, query = address.partition("?")
    multi_query = parse_qs(query) if query else None
    headers = {
        "Host": "localhost",
        "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
        "Accept-Encoding": "gzip, deflate, br",
        "User-Agent": "Mozilla/5.0 (bench)",
    }
    if cookie:
        headers["Cookie"] = cookie
    return {
        "resource": resource,
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()}
        if multi_query
        else None,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": "GET",
            "path": path,
            "stage": "api",
            "requestId": "bench",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "Mozilla/5.0 (bench)"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def _run_against(environment: dict[str, str], code: str, *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code, *arguments],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"a fresh process failed: {result.stderr.strip().splitlines()[-3:]}")
    return result.stdout


def _timed(environment: dict[str, str], code: str, *arguments: str) -> tuple[float, float]:
    """Seconds from the process's start to its answer (printed by the process, same clock), and
    to its exit."""
    started = time.time()
    answered = float(_run_against(environment, code, *arguments).strip().splitlines()[-1])
    return answered - started, time.time() - started


def stack_environment(app_url: str, aws_url: str) -> dict[str, str]:
    """The environment of a fresh process of the app against a running local stack, without
    changing this one's (`configure_environment` writes into os.environ, and the benchmarks
    that follow must keep the test stage's)."""
    import os

    from local.background import child_environment
    from local.stack import StackAddresses, configure_environment

    addresses = StackAddresses(
        host="127.0.0.1",
        aws_port=int(aws_url.rsplit(":", 1)[1]),
        app_port=int(app_url.rsplit(":", 1)[1]),
    )
    saved = dict(os.environ)
    try:
        environment = child_environment(configure_environment(addresses))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    environment["PYTHONPATH"] = str(REPOSITORY)
    return environment


def lived_figures() -> Iterator[Line]:
    import json
    import tempfile

    from bench.phone import _sign_in
    from local.background import background_stack

    with tempfile.TemporaryDirectory(prefix="portail-cold-") as scratch:
        scratch_dir = Path(scratch)
        with background_stack(scratch_dir / "outbox", scratch_dir / "stack.log") as stack:
            visit = _sign_in(stack.url)
            environment = stack_environment(stack.url, stack.aws_url)
            identification = proxy_event(f"/{FUNDER}/", "/{funder_code}", funder_code=FUNDER)
            trainings = proxy_event("/formations", "/formations", visit.cookie)
            pages = {
                "Identification": identification,
                "S'inscrire": proxy_event(
                    f"/{FUNDER}/inscription", "/{funder_code}/inscription", funder_code=FUNDER
                ),
                "Mes formations": trainings,
                "Payment detail": proxy_event(
                    visit.payment_path, "/formations/paiement", visit.cookie
                ),
                "Mes messages": proxy_event("/messages", "/messages", visit.cookie),
            }
            funders_table = f"{environment['TABLE_PREFIX']}-funders"
            runs = {
                "import app + Identification": (FIRST_REQUEST, json.dumps(identification)),
                "import app + Mes formations (signed in)": (FIRST_REQUEST, json.dumps(trainings)),
                "floor + one GetItem": (FLOOR_REQUEST, funders_table, FUNDER),
            }
            for code, *arguments in runs.values():  # warms the file cache, checks each runs
                _timed(environment, code, *arguments)
            answered: dict[str, list[float]] = {name: [] for name in runs}
            exited: dict[str, list[float]] = {name: [] for name in runs}
            for _ in range(PROCESSES):
                for name, (code, *arguments) in runs.items():
                    to_answer, to_exit = _timed(environment, code, *arguments)
                    answered[name].append(to_answer)
                    exited[name].append(to_exit)
            medians = {name: statistics.median(values) for name, values in answered.items()}
            whole = {name: statistics.median(values) for name, values in exited.items()}
            floor_name = "floor + one GetItem"
            floor = medians[floor_name]
            yield Figure(
                f"cold start as lived: floor ({FLOOR} + GetItem)",
                floor * 1000,
                "ms",
                note=f"to its answer; {format_number(whole[floor_name] * 1000)} ms to its exit",
            )
            for name in list(runs)[:2]:
                yield Figure(
                    f"cold start as lived: {name}",
                    medians[name] / floor,
                    "×",
                    LIVED_BUDGET,
                    decimals=2,
                    note=(
                        f"{format_number(medians[name] * 1000)} ms to the answer, medians of "
                        f"{PROCESSES}; to the process's exit {format_number(whole[name] * 1000)}"
                        f" ms, {format_number(whole[name] / whole[floor_name], 2)} ×"
                    ),
                )
            warm = json.loads(
                _run_against(environment, WARM_REQUESTS_CODE, json.dumps(pages), str(WARM_REQUESTS))
            )
            for name, seconds in warm.items():
                yield Figure(
                    f"warm request, CPU time: {name}",
                    seconds * 1000,
                    "ms",
                    WARM_BUDGET_MS if name == "Mes formations" else None,
                    decimals=1,
                    note=f"median of {WARM_REQUESTS}",
                )
