"""`make run`'s stack stops cleanly on Ctrl-C and starts again on the same ports."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from local.background import child_environment
from tests.e2e.conftest import PROJECT_DIR, _free_port

pytestmark = pytest.mark.e2e


def start(
    aws_port: int, app_port: int, fc_port: int, outbox: str, log: Path
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.stack",
            "--no-demo",
            "--aws-port",
            str(aws_port),
            "--app-port",
            str(app_port),
            "--fc-port",
            str(fc_port),
            "--outbox",
            outbox,
        ],
        cwd=PROJECT_DIR,
        env=child_environment(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def wait_ready(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if "pile locale prête" in log.read_text():
            return
        if process.poll() is not None:
            break
        time.sleep(0.3)
    raise AssertionError(log.read_text()[-3000:])


def test_ctrl_c_stops_everything_and_a_second_start_works(tmp_path) -> None:
    ports = (_free_port(), _free_port(), _free_port())
    for attempt in range(2):
        log = tmp_path / f"stack-{attempt}.log"
        process = start(*ports, str(tmp_path / "outbox"), log)
        try:
            wait_ready(process, log)
            with urllib.request.urlopen(f"http://localhost:{ports[1]}/", timeout=10) as answer:
                assert answer.status == 200
        finally:
            process.send_signal(signal.SIGINT)  # what Ctrl-C sends
            assert process.wait(timeout=30) == 0, f"start {attempt + 1} did not stop cleanly"
