"""The portal in Chromium through the local front, as in AWS (D9, D10): the captcha image and its
sound, the DSFR fonts and icons, under the real Content-Security-Policy; the execute-api address
sends people to the public one."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture
def strict_page(browser, stack):
    """A page that enforces the portal's CSP (the journeys bypass it to inject axe-core)."""
    context = browser.new_context(base_url=stack.url, locale="fr-FR", accept_downloads=True)
    opened = context.new_page()
    yield opened
    context.close()


def test_the_signup_captcha_shows_and_speaks_and_the_fonts_load_under_the_csp(
    strict_page, tmp_path: Path
) -> None:
    page = strict_page
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    static_answers: dict[str, int] = {}
    page.on(
        "response",
        lambda r: static_answers.__setitem__(r.url, r.status) if "/static/" in r.url else None,
    )
    page.goto("/region-idf/inscription")
    page.wait_for_load_state("networkidle")

    image = page.locator("img.captcha-image")
    assert image.get_attribute("src").startswith("data:image/png;base64,")
    assert page.evaluate("(img) => img.complete && img.naturalWidth", image.element_handle()) == 240

    # The sound is not in the page (it tripled its weight): the link leads, through a redirect,
    # to a 5-minute presigned link to the documents bucket, made when followed.
    listen = page.get_by_role("link", name="Écouter le code")
    assert listen.get_attribute("href").startswith("/code-de-securite/")
    with page.expect_download() as download_info:
        listen.click()
    download = download_info.value
    assert download.suggested_filename == "code-de-securite.wav"
    sound = Path(download.path()).read_bytes()
    assert sound[:4] == b"RIFF" and sound[8:12] == b"WAVE"

    # The DSFR's Marianne font, fetched with Accept: */* from /static/ (CloudFront's S3 origin).
    assert page.evaluate(
        "async () => { await document.fonts.ready; return document.fonts.check('1rem Marianne'); }"
    )
    fonts = [url for url in static_answers if url.split("?")[0].endswith(".woff2")]
    assert fonts, static_answers
    assert static_answers and set(static_answers.values()) == {200}, static_answers
    assert refused == []


def test_the_execute_api_address_leads_to_the_public_one(strict_page, stack) -> None:
    execute_api = stack.url.replace("localhost", "127.0.0.1")
    response = strict_page.goto(f"{execute_api}/api/region-idf/")
    assert strict_page.url == f"{stack.url}/"
    assert response.status == 200
