"""The local stack (`python -m local.stack`) in a child process, on free ports: what the
end-to-end tests and `python -m local.screenshots` start. `make run` runs it in the foreground."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Debian's Chromium, as the end-to-end tests and the screenshots drive it through Playwright.
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_SECONDS = 180
READY_LINE = "pile locale prête"  # printed by local.stack.print_directions


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class BackgroundStack:
    url: str  # the portal
    aws_url: str  # the AWS emulator
    franceconnect_url: str  # the fake FranceConnect provider
    outbox: Path  # one .eml file per mail sent
    log_path: Path  # everything the stack printed


def child_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without what would point the stack at a real AWS account."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key not in {"STAGE", "TABLE_PREFIX"}
    }
    environment["PYTHONUNBUFFERED"] = "1"
    environment.update(extra or {})
    return environment


@contextmanager
def background_stack(
    outbox: Path,
    log_path: Path,
    environment: Mapping[str, str] | None = None,
    startup_seconds: float = STARTUP_SECONDS,
) -> Iterator[BackgroundStack]:
    """Starts the stack with the demo data, waits until it is ready, stops it on the way out."""
    aws_port, app_port, franceconnect_port = free_port(), free_port(), free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "local.stack",
                "--aws-port",
                str(aws_port),
                "--app-port",
                str(app_port),
                "--fc-port",
                str(franceconnect_port),
                "--outbox",
                str(outbox),
            ],
            cwd=PROJECT_DIR,
            env=child_environment(environment),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_ready(process, log_path, startup_seconds)
        yield BackgroundStack(
            url=f"http://localhost:{app_port}",
            aws_url=f"http://127.0.0.1:{aws_port}",
            franceconnect_url=f"http://127.0.0.1:{franceconnect_port}",
            outbox=outbox,
            log_path=log_path,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(
    process: subprocess.Popen[bytes], log_path: Path, startup_seconds: float
) -> None:
    deadline = time.monotonic() + startup_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("la pile locale s'est arrêtée :\n" + log_path.read_text()[-4000:])
        if READY_LINE in log_path.read_text():
            return
        time.sleep(0.3)
    raise RuntimeError("la pile locale n'a pas démarré à temps :\n" + log_path.read_text()[-4000:])
