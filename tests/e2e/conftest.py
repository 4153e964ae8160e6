"""End-to-end fixtures: the whole local stack in a child process, and Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CAPTCHA_ANSWER = "424242"
STARTUP_SECONDS = 180


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RunningStack:
    def __init__(self, url: str, outbox: Path, aws_url: str) -> None:
        self.url = url
        self.outbox = outbox
        self.aws_url = aws_url

    def mails_to(self, address: str) -> list[str]:
        """The raw text of every mail sent so far to that address, oldest first."""
        from email import message_from_bytes, policy

        texts: list[str] = []
        for path in sorted(self.outbox.glob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            if address in str(message["To"]):
                body = message.get_body(preferencelist=("plain",))
                texts.append(f"{message['Subject']}\n{body.get_content() if body else ''}")
        return texts

    def wait_for_mail(self, address: str, count: int = 1, timeout: float = 20.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = self.mails_to(address)
            if len(mails) >= count:
                return mails
            time.sleep(0.2)
        raise AssertionError(f"aucun courriel n°{count} pour {address} dans {self.outbox}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    outbox = tmp_path_factory.mktemp("outbox")
    aws_port, app_port, franceconnect_port = _free_port(), _free_port(), _free_port()
    log_path = tmp_path_factory.mktemp("stack") / "stack.log"
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key not in {"STAGE", "TABLE_PREFIX"}
    }
    environment["CAPTCHA_TEST_ANSWER"] = CAPTCHA_ANSWER
    # Every journey comes from 127.0.0.1: widen the per-address limits (local stage only).
    environment["RATE_LIMIT_MULTIPLIER"] = "50"
    environment["PYTHONUNBUFFERED"] = "1"
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
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://localhost:{app_port}"
    try:
        _wait_until_ready(process, log_path)
        yield RunningStack(url, outbox, f"http://127.0.0.1:{aws_port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_until_ready(process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("la pile locale s'est arrêtée :\n" + log_path.read_text()[-4000:])
        if "pile locale prête" in log_path.read_text():
            return
        time.sleep(0.3)
    raise RuntimeError("la pile locale n'a pas démarré à temps :\n" + log_path.read_text()[-4000:])


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture(params=["desktop", "phone"])
def page(request: pytest.FixtureRequest, browser: object, stack: RunningStack) -> Iterator[object]:
    viewport = {"width": 1280, "height": 900} if request.param == "desktop" else None
    options: dict[str, object] = {"base_url": stack.url, "locale": "fr-FR"}
    if viewport:
        options["viewport"] = viewport
    else:
        options.update(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    # axe-core is injected by the test: allowed past our CSP in the test browser only.
    context = browser.new_context(bypass_csp=True, **options)  # type: ignore[attr-defined]
    opened = context.new_page()
    yield opened
    context.close()
