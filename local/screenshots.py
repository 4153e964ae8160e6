"""`make screenshots`: PNG screenshots of the main pages for the README, in docs/screenshots/.

    python -m local.screenshots                              # starts its own local stack
    python -m local.screenshots --url http://localhost:8000  # or uses a running one (`make run`)

Logs in as the demo trainee Camille MARTIN and photographs the login page, « Mes formations »
(the guide's example payment), a payment's detail, « Mon compte » and « Mes messages », in a
1280-pixel-wide window, plus two phone-sized shots (390 pixels). On its own stack it first
writes a message as Camille and answers it as her training organisation (Claire DURAND), so that
« Mes messages » shows a conversation; on a running stack it changes nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from local.background import CHROMIUM, CHROMIUM_ARGS, PROJECT_DIR, background_stack
from local.demo import READY, READY_STAFF

OUTPUT_DIR = PROJECT_DIR / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
FUNDER = "region-idf"
# The guide's example: « Développeur web et web mobile », payment of 20/03/2018, 144,85 €.
GUIDE_TRAINING = "Développeur web et web mobile — Région Île-de-France (16/10/2017)"
GUIDE_PAYMENT = "20/03/2018"
MESSAGE_SUBJECT = "Attestation de présence d’octobre"
MESSAGE_TEXT = (
    "Bonjour,\nPourriez-vous m’envoyer mon attestation de présence du mois d’octobre ?\n"
    "Merci,\nCamille MARTIN"
)
ANSWER_TEXT = (
    "Bonjour Camille,\nVotre attestation part aujourd’hui par courriel.\nBonne formation !\n"
    "Claire DURAND"
)
MAX_CLIP_HEIGHT = 1400


def new_window(browser: Browser, base_url: str, phone: bool = False) -> BrowserContext:
    if phone:
        return browser.new_context(
            base_url=base_url,
            locale="fr-FR",
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        )
    return browser.new_context(base_url=base_url, locale="fr-FR", viewport=DESKTOP)


def log_in(page: Page, path: str, email: str, password: str, landing: str) -> None:
    page.goto(path)
    page.get_by_label("Utilisateur").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Connexion").click()
    try:
        page.wait_for_url(landing, timeout=15_000)
    except Exception as error:
        raise SystemExit(f"Connexion impossible pour {email} (arrivé sur {page.url}).") from error


def open_guide_payments(page: Page) -> None:
    """« Mes formations » with the training of the guide's example chosen."""
    page.goto("/formations")
    page.get_by_label("Formation", exact=True).select_option(label=GUIDE_TRAINING)
    page.get_by_role("button", name="Choisir cette formation").click()
    page.wait_for_url("**/formations?formation=*")


def shoot(page: Page, path: Path, clip_to: str | None = None) -> None:
    """The window as it is (or, with `clip_to`, the page from its top to the bottom of that
    element), once fonts and DSFR scripts have settled, with no pointer hovering anything."""
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready.then(() => true)")
    page.mouse.move(0, 0)
    if clip_to is None:
        page.screenshot(path=path, animations="disabled")
    else:
        box = page.locator(clip_to).bounding_box()
        if box is None:
            raise SystemExit(f"{clip_to} introuvable sur {page.url}")
        width = page.viewport_size["width"] if page.viewport_size else DESKTOP["width"]
        height = min(MAX_CLIP_HEIGHT, int(box["y"] + box["height"]) + 32)
        clip = {"x": 0, "y": 0, "width": width, "height": height}
        page.screenshot(path=path, full_page=True, clip=clip, animations="disabled")
    shown = path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path
    print(f"  {shown} ({path.stat().st_size // 1024} Kio)")


def write_sample_conversation(browser: Browser, base_url: str) -> None:
    """Camille writes to her training organisation; Claire DURAND answers from /organisme/."""
    context = new_window(browser, base_url)
    try:
        page = context.new_page()
        log_in(page, f"/{FUNDER}/", READY.email, READY.password, "**/formations")
        page.goto("/messages/nouveau")
        training = page.get_by_label("Formation concernée")
        if training.count():
            training.select_option(index=1)
        page.get_by_label("Objet").fill(MESSAGE_SUBJECT)
        page.get_by_label("Message").fill(MESSAGE_TEXT)
        page.get_by_role("button", name="Envoyer").click()
        page.wait_for_url("**/messages/fil?id=*")
        page.get_by_role("button", name="Se déconnecter").click()

        log_in(
            page, "/organisme/", READY_STAFF.email, READY_STAFF.password, "**/organisme/messages"
        )
        page.get_by_role("link", name=MESSAGE_SUBJECT).first.click()
        page.wait_for_url("**/organisme/messages/fil?id=*")
        page.get_by_label("Votre réponse").fill(ANSWER_TEXT)
        page.get_by_role("button", name="Envoyer").click()
        page.wait_for_url("**/organisme/messages/fil?id=*")
        page.get_by_role("button", name="Se déconnecter").click()
    finally:
        context.close()


def take_screenshots(browser: Browser, base_url: str, output: Path) -> list[Path]:
    output.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(page: Page, name: str, clip_to: str | None = None) -> None:
        path = output / name
        shoot(page, path, clip_to)
        written.append(path)

    context = new_window(browser, base_url)
    try:
        page = context.new_page()
        page.goto(f"/{FUNDER}/")
        save(page, "connexion.png")

        log_in(page, f"/{FUNDER}/", READY.email, READY.password, "**/formations")
        open_guide_payments(page)
        save(page, "mes-formations.png", clip_to="section[aria-labelledby='titre-historique']")
        page.get_by_role("link", name=f"Détail du paiement du {GUIDE_PAYMENT}").click()
        page.wait_for_url("**/formations/paiement?*")
        save(page, "detail-paiement.png")

        page.goto("/compte")
        save(page, "mon-compte.png")

        page.goto("/messages")
        save(page, "mes-messages.png")
        conversation = page.get_by_role("link", name=MESSAGE_SUBJECT)
        if conversation.count():
            conversation.first.click()
            page.wait_for_url("**/messages/fil?id=*")
            save(page, "conversation.png")
    finally:
        context.close()

    context = new_window(browser, base_url, phone=True)
    try:
        page = context.new_page()
        page.goto(f"/{FUNDER}/")
        save(page, "telephone-connexion.png")
        log_in(page, f"/{FUNDER}/", READY.email, READY.password, "**/formations")
        open_guide_payments(page)
        page.get_by_role("link", name=f"Détail du paiement du {GUIDE_PAYMENT}").click()
        page.wait_for_url("**/formations/paiement?*")
        save(page, "telephone-detail-paiement.png")
    finally:
        context.close()
    return written


def run(base_url: str | None, output: Path) -> list[Path]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            with stack_url(base_url) as (url, own_stack):
                if own_stack:
                    write_sample_conversation(browser, url)
                print(f"Captures de {url} dans {output} :")
                return take_screenshots(browser, url, output)
        finally:
            browser.close()


@contextmanager
def stack_url(base_url: str | None) -> Iterator[tuple[str, bool]]:
    """The given portal, or a local stack of our own (with the demo data) while the block runs."""
    if base_url:
        yield base_url.rstrip("/"), False
        return
    print("Démarrage de la pile locale…", flush=True)
    with tempfile.TemporaryDirectory(prefix="portail-captures-") as scratch:
        scratch_dir = Path(scratch)
        with background_stack(scratch_dir / "outbox", scratch_dir / "stack.log") as running:
            yield running.url, True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Captures d'écran des pages principales.")
    parser.add_argument(
        "--url",
        help="adresse d’un portail déjà lancé (sinon : une pile locale le temps des prises)",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT_DIR, help="dossier des PNG")
    args = parser.parse_args(argv)
    written = run(args.url, args.output.resolve())
    print(f"{len(written)} captures écrites.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
