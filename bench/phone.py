"""On a phone: Lighthouse's mobile profile on the main pages, and the bytes of a visit.

Budgets (docs/specs/performance.md, « Phone, first visit »): Lighthouse 12.2.3 mobile (simulated
slow 4G, CPU slowed 4×) on every page below: performance ≥ 95, accessibility 100, best practices
100, LCP ≤ 2.0 s; Identification ≤ 200 KiB on the wire; a second page of the same visit ≤ 30 KiB.

A local stack of its own (demo data) on free ports, the pinned `lighthouse` from node_modules
(`make setup` installs it) driving the installed Chromium. Signed-in pages get the demo trainee's
session cookie through `--extra-headers`. The second page is measured in Chromium itself, in the
same browser context as the first visit (its cache warm), by the bytes the network really carried
(CDP `encodedDataLength`: zero for what the cache served).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.figures import Budget, Figure, Line, Note

REPOSITORY = Path(__file__).resolve().parent.parent
LIGHTHOUSE = REPOSITORY / "node_modules" / ".bin" / "lighthouse"
FUNDER = "region-idf"
CATEGORIES = ("performance", "accessibility", "best-practices")
SCORE_BUDGETS = {
    "performance": Budget("≥", 95),
    "accessibility": Budget("≥", 100),
    "best-practices": Budget("≥", 100),
}
LCP_BUDGET = Budget("≤", 2.0, decimals=1)
IDENTIFICATION_KIB = Budget("≤", 200)
SECOND_PAGE_KIB = Budget("≤", 30)
LIGHTHOUSE_SECONDS = 180


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    signed_in: bool


@dataclass(frozen=True)
class Visit:
    """What a signed-in browser found: the session cookie and the pages' addresses."""

    cookie: str
    payment_path: str


def _sign_in(base_url: str) -> Visit:
    from playwright.sync_api import sync_playwright

    from local.background import CHROMIUM, CHROMIUM_ARGS
    from local.demo import READY
    from local.screenshots import GUIDE_PAYMENT, log_in, new_window, open_guide_payments

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = new_window(browser, base_url, phone=True)
            page = context.new_page()
            log_in(page, f"/{FUNDER}/", READY.email, READY.password, "**/formations")
            open_guide_payments(page)
            page.get_by_role("link", name=f"Détail du paiement du {GUIDE_PAYMENT}").click()
            page.wait_for_url("**/formations/paiement?*")
            payment_path = page.url.removeprefix(base_url)
            cookie = "; ".join(
                f"{item['name']}={item['value']}" for item in context.cookies(base_url)
            )
            context.close()
        finally:
            browser.close()
    return Visit(cookie=cookie, payment_path=payment_path)


def _transferred(base_url: str, first: str, second: str) -> tuple[int, int, int, int]:
    """Bytes and requests on the wire for `first` (cold cache), then `second` in the same
    browser context (warm cache), as Chromium's network layer counted them."""
    from playwright.sync_api import sync_playwright

    from local.background import CHROMIUM, CHROMIUM_ARGS
    from local.screenshots import new_window

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = new_window(browser, base_url, phone=True)
            page = context.new_page()
            session = context.new_cdp_session(page)
            session.send("Network.enable")
            loaded: list[float] = []
            session.on(
                "Network.loadingFinished", lambda event: loaded.append(event["encodedDataLength"])
            )
            counts = []
            for path in (first, second):
                loaded.clear()
                page.goto(path)
                page.wait_for_load_state("networkidle")
                page.evaluate("document.fonts.ready.then(() => true)")
                on_wire = [size for size in loaded if size > 0]
                counts += [int(sum(on_wire)), len(on_wire)]
            context.close()
        finally:
            browser.close()
    return counts[0], counts[1], counts[2], counts[3]


def _lighthouse(url: str, cookie: str | None, output: Path) -> dict[str, Any]:
    from local.background import CHROMIUM, CHROMIUM_ARGS

    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={output}",
        f"--only-categories={','.join(CATEGORIES)}",
        "--chrome-flags=" + " ".join(["--headless=new", *CHROMIUM_ARGS]),
    ]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    environment = {**os.environ, "CHROME_PATH": CHROMIUM}
    subprocess.run(
        command, check=True, env=environment, capture_output=True, timeout=LIGHTHOUSE_SECONDS
    )
    return dict(json.loads(output.read_text(encoding="utf-8")))


def _page_figures(page: Page, report: dict[str, Any]) -> Iterator[Line]:
    if report.get("runtimeError"):
        raise RuntimeError(f"Lighthouse on {page.path}: {report['runtimeError']}")
    for category in CATEGORIES:
        score = report["categories"][category]["score"]
        yield Figure(
            f"{page.name}: Lighthouse {category.replace('-', ' ')}",
            (score or 0) * 100,
            "",
            SCORE_BUDGETS[category],
        )
    audits = report["audits"]
    yield Figure(
        f"{page.name}: LCP (Lighthouse, mobile)",
        audits["largest-contentful-paint"]["numericValue"] / 1000,
        "s",
        LCP_BUDGET,
        decimals=1,
    )
    requests = audits["network-requests"]["details"]["items"]
    total = audits["total-byte-weight"]["numericValue"] / 1024
    budget = IDENTIFICATION_KIB if page.path == f"/{FUNDER}/" else None
    yield Figure(f"{page.name}: on the wire, first visit", total, "KiB", budget, decimals=1)
    yield Figure(f"{page.name}: requests, first visit", len(requests), "")
    failed = [
        audit["title"]
        for audit in audits.values()
        if audit.get("scoreDisplayMode") == "binary" and audit.get("score") == 0
    ]
    if failed:
        yield Note(f"{page.name}: failed audits: {'; '.join(failed)}")


def figures() -> Iterator[Line]:
    from local.background import background_stack

    if not LIGHTHOUSE.is_file():
        raise RuntimeError(f"{LIGHTHOUSE} missing: run `make setup` (npm ci)")
    with tempfile.TemporaryDirectory(prefix="portail-phone-") as scratch:
        scratch_dir = Path(scratch)
        with background_stack(scratch_dir / "outbox", scratch_dir / "stack.log") as stack:
            visit = _sign_in(stack.url)
            identification, signup = f"/{FUNDER}/", f"/{FUNDER}/inscription"
            first_bytes, first_requests, second_bytes, second_requests = _transferred(
                stack.url, identification, signup
            )
            yield Figure(
                "Identification, first visit (Chromium, on the wire)",
                first_bytes / 1024,
                "KiB",
                IDENTIFICATION_KIB,
                decimals=1,
                note=f"{first_requests} requests",
            )
            yield Figure(
                "S'inscrire next, same visit (warm cache, on the wire)",
                second_bytes / 1024,
                "KiB",
                SECOND_PAGE_KIB,
                decimals=1,
                note=f"{second_requests} requests",
            )
            pages = (
                Page("Identification", identification, signed_in=False),
                Page("S'inscrire", signup, signed_in=False),
                Page("Mes formations", "/formations", signed_in=True),
                Page("Payment detail", visit.payment_path, signed_in=True),
                Page("Mes messages", "/messages", signed_in=True),
            )
            for page in pages:
                report = _lighthouse(
                    stack.url + page.path,
                    visit.cookie if page.signed_in else None,
                    scratch_dir / "report.json",
                )
                yield from _page_figures(page, report)
