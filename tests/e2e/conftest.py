"""End-to-end fixtures: the whole local stack in a child process, and Debian's Chromium."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.background import CHROMIUM, CHROMIUM_ARGS, background_stack, free_port
from local.background import PROJECT_DIR as PROJECT_DIR

CAPTCHA_ANSWER = "424242"
_free_port = free_port  # test_local_stack.py starts its own stacks on free ports


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
    log_path = tmp_path_factory.mktemp("stack") / "stack.log"
    environment = {
        "CAPTCHA_TEST_ANSWER": CAPTCHA_ANSWER,
        # Every journey comes from 127.0.0.1: widen the per-address limits (local stage only).
        "RATE_LIMIT_MULTIPLIER": "50",
    }
    with background_stack(outbox, log_path, environment) as running:
        yield RunningStack(running.url, running.outbox, running.aws_url)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
