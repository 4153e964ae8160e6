"""The funders' space under moto: invitation by the operator's command line, first login with
the TOTP enrolment, the code at every login and its abuse cases, the guard, « Paramètres »."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape

import pyotp
import pytest
from chalice.test import Client

from chalicelib import admin
from chalicelib import container as container_module
from chalicelib.container import get_container, reset_container
from chalicelib.services.accounts.model import Step
from chalicelib.services.accounts.sessions import Session, SignedIn
from chalicelib.services.errors import Invalid
from chalicelib.services.funders.model import Funder, save_funder
from chalicelib.services.security.throttling import RATE_LIMITS
from chalicelib.store.models import FunderItem
from tests.integration.conftest import mails_to
from tests.support.aws import run_queue
from tests.support.concurrency import atomic_requests, run_together
from tests.support.fakes import FakeClock
from tests.support.web import Page, WebClient

MANAGER = "alix.durand@region-idf.example.fr"
VIEWER = "sacha.petit@region-idf.example.fr"
OTHER = "noa.leroy@region-hdf.example.fr"
NEW_PASSWORD = "Brume-Orage-Grele-2026"
SECRET_KEY = re.compile(r'<code id="cle-secrete">([A-Z2-7 ]+)</code>')
RECOVERY = re.compile(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>")


@dataclass
class Staff:
    web: WebClient
    email: str
    secret: str
    recovery_codes: list[str]
    enrolment_code: str

    def code(self, seconds_later: int = 0) -> str:
        return pyotp.TOTP(self.secret).at(int(time.time()) + seconds_later)


def invite(email: str, funder: str, role: str) -> None:
    assert (
        admin.main(
            [
                "--stage",
                "test",
                "staff",
                "invite",
                "--funder",
                funder,
                "--role",
                role,
                "--email",
                email,
                "--given-names",
                "Alix",
                "--family-name",
                "DURAND",
            ]
        )
        == 0
    )


def temporary_password(address: str) -> str:
    subject, text = mails_to(address)[-1]
    assert subject == "Votre accès à l'espace des financeurs"
    match = re.search(r"Mot de passe provisoire : (\S+)", text)
    assert match, text
    return match.group(1)


def password_login(web: WebClient, email: str, password: str) -> Page:
    home = web.get("/financeur")
    return web.post(
        "/financeur/connexion",
        {"csrf": home.hidden("csrf"), "username": email, "password": password},
    )


def first_login(web: WebClient, email: str) -> Staff:
    password = temporary_password(email)
    page = password_login(web, email, password)
    assert page.location == "/premiere-connexion/mot-de-passe"
    step = web.get(page.location)
    page = web.post(
        page.location,
        {
            "csrf": step.hidden("csrf"),
            "old_password": password,
            "new_password": NEW_PASSWORD,
            "confirmation": NEW_PASSWORD,
        },
    )
    step = web.get(page.location)
    page = web.post(
        page.location,
        {"csrf": step.hidden("csrf"), "question": "Ville de naissance ?", "answer": "Lille"},
    )
    assert page.location == "/cgu"
    step = web.get("/cgu")
    page = web.post("/cgu", {"csrf": step.hidden("csrf"), "version": step.hidden("version")})
    assert page.location == "/double-authentification/activation"
    # Nothing of the space before the enrolment.
    assert web.get("/financeur/parametres").location == "/double-authentification/activation"
    enrol = web.get(page.location)
    assert enrol.status == 200 and "<svg" in enrol.body
    secret = SECRET_KEY.search(enrol.body).group(1).replace(" ", "")  # type: ignore[union-attr]
    wrong = web.post(page.location, {"csrf": enrol.hidden("csrf"), "code": "000000"})
    assert wrong.status == 400 and wrong.field_error("code")
    assert SECRET_KEY.search(wrong.body).group(1).replace(" ", "") == secret  # type: ignore[union-attr]
    enrolment_code = pyotp.TOTP(secret).now()
    codes_page = web.post(page.location, {"csrf": enrol.hidden("csrf"), "code": enrolment_code})
    assert codes_page.status == 200, codes_page.text
    codes = RECOVERY.findall(codes_page.body)
    assert len(codes) == 10
    assert "Ils ne seront plus jamais affichés" in codes_page.text
    return Staff(web, email, secret, codes, enrolment_code)


@pytest.fixture
def space(portal: WebClient) -> Iterator[WebClient]:
    save_funder(get_container().funders, Funder("region-hdf", "Région Hauts-de-France"))
    yield portal


def another_browser() -> WebClient:
    import app as portal_app

    return WebClient(Client(portal_app.app, stage_name="test"))


@pytest.fixture
def manager(space: WebClient) -> Staff:
    invite(MANAGER, "region-idf", "gestionnaire")
    return first_login(space, MANAGER)


def log_in_again(staff: Staff, seconds_later: int = 30) -> Page:
    """A new login, with a code of a later time step than the one already used."""
    staff.web.cookies.clear()
    page = password_login(staff.web, staff.email, NEW_PASSWORD)
    assert page.location == "/double-authentification"
    step = staff.web.get(page.location)
    return staff.web.post(
        page.location, {"csrf": step.hidden("csrf"), "code": staff.code(seconds_later)}
    )


def test_an_invited_manager_enrols_and_reaches_the_space(manager: Staff) -> None:
    home = manager.web.get("/financeur")
    assert home.status == 200
    assert "Espace financeur" in home.text and "Région Île-de-France" in home.text
    for label in ("Tableau de bord", "Fichiers", "Rechercher un dossier", "Paramètres"):
        assert label in home.text
    account = get_container().accounts.find_by_email(MANAGER)
    assert account is not None and account.totp_enabled and account.funder_code == "region-idf"


def test_every_login_asks_the_code_and_a_code_serves_once(manager: Staff) -> None:
    manager.web.cookies.clear()
    page = password_login(manager.web, manager.email, NEW_PASSWORD)
    assert page.location == "/double-authentification"
    # A session without the second factor gets nothing of the space.
    for path in ("/financeur/parametres", "/financeur"):
        got = manager.web.get(path)
        assert got.location == "/double-authentification" or "Identification" in got.text
    refused = manager.web.post("/financeur/parametres", {"home_text": "pirate"})
    assert refused.location == "/double-authentification"
    assert FunderItem.get("funder", "region-idf").home_text is None
    step = manager.web.get("/double-authentification")
    # The code of the enrolment was used: it is refused now (« déjà servi » within the 30 s of
    # drift accepted, « incorrect » after).
    used = manager.enrolment_code
    replay = manager.web.post(
        "/double-authentification", {"csrf": step.hidden("csrf"), "code": used}
    )
    assert replay.status == 401
    assert "déjà servi" in replay.text or "incorrect" in replay.text
    done = manager.web.post(
        "/double-authentification", {"csrf": step.hidden("csrf"), "code": manager.code(30)}
    )
    assert done.location == "/financeur"
    assert manager.web.get("/financeur/parametres").status == 200


def half_logged_in(count: int) -> list[tuple[str, Session]]:
    """`count` sessions of the manager waiting for the TOTP code, as the login page opens them."""
    container = get_container()
    opened = []
    for _ in range(count):
        result = container.login.log_in(MANAGER, NEW_PASSWORD, "192.0.2.10")
        assert result.token is not None and result.session is not None
        assert result.session.pending_step is Step.TOTP
        opened.append((result.token, result.session))
    return opened


def verify(session: tuple[str, Session], code: str) -> SignedIn | Invalid:
    """The login completed, or the code refused (returned, to count)."""
    try:
        return get_container().totp.verify_login(*session, code, None)
    except Invalid as refused:
        return refused


# Chalice's test client keeps one current request per app, which threads would share: the
# races go through the service and the real DynamoDB store instead, as requests would.


def test_one_code_sent_by_two_logins_at_once_completes_one(manager: Staff) -> None:
    code = manager.code(30)
    opened = half_logged_in(4)

    with atomic_requests():
        results = run_together(
            *(
                lambda opened_session=opened_session: verify(opened_session, code)
                for opened_session in opened
            )
        )

    assert sum(isinstance(result, SignedIn) for result in results) == 1


def test_a_recovery_code_used_by_two_logins_at_once_serves_once(manager: Staff) -> None:
    totp = get_container().totp
    opened = half_logged_in(4)
    code = manager.recovery_codes[0]

    with atomic_requests():
        results = run_together(
            *(
                lambda opened_session=opened_session: verify(opened_session, code)
                for opened_session in opened
            )
        )

    assert sum(isinstance(result, SignedIn) for result in results) == 1
    account = get_container().accounts.find_by_email(MANAGER)
    assert account is not None and totp.recovery_codes_left(account.account_id) == 9


def test_wrong_codes_are_delayed_like_passwords(manager: Staff) -> None:
    manager.web.cookies.clear()
    password_login(manager.web, manager.email, NEW_PASSWORD)
    csrf = manager.web.get("/double-authentification").hidden("csrf")
    for _ in range(5):
        assert (
            manager.web.post("/double-authentification", {"csrf": csrf, "code": "000000"}).status
            == 401
        )
    refused = manager.web.post("/double-authentification", {"csrf": csrf, "code": manager.code(30)})
    assert refused.status == 401 and "Trop de codes incorrects" in refused.text
    assert manager.web.get("/financeur/parametres").location == "/double-authentification"


def test_settings_are_changed_audited_and_shown_escaped_on_the_home_page(manager: Staff) -> None:
    page = manager.web.get("/financeur/parametres")
    assert "Proposer «\xa0Mes messages\xa0» à vos stagiaires" in unescape(page.body)
    assert "FranceConnect n’est pas proposé pour votre portail" in page.text
    saved = manager.web.post(
        "/financeur/parametres",
        {
            "csrf": page.hidden("csrf"),
            "messages_enabled": "oui",
            "home_text": "Bienvenue <b>à tous</b>.\r\n\r\nHoraires : 9 h – 17 h.",
        },
    )
    assert saved.location == "/financeur/parametres?enregistre=oui"
    assert "Vos paramètres sont enregistrés" in manager.web.get(saved.location).text
    funder = get_container().funders.get("region-idf")
    assert funder is not None and funder.messages_enabled
    home = another_browser().get("/region-idf/")
    assert "Bienvenue &lt;b&gt;à tous&lt;/b&gt;." in home.body
    assert "Horaires : 9 h – 17 h." in home.text
    account_id = get_container().accounts.find_by_email(MANAGER).account_id  # type: ignore[union-attr]
    changes = [
        e.details.as_dict()
        for e in get_container().audit.events(account_id, limit=50)
        if e.event == "funder-setting-changed"
    ]
    assert {c["setting"] for c in changes} == {"messages_enabled", "home_text"}
    assert all(c["funder"] == "region-idf" for c in changes)


def test_a_too_long_home_text_is_refused_in_french(manager: Staff) -> None:
    page = manager.web.get("/financeur/parametres")
    refused = manager.web.post(
        "/financeur/parametres", {"csrf": page.hidden("csrf"), "home_text": "a" * 1001}
    )
    assert refused.status == 400
    assert refused.field_error("home_text") == (
        "Le texte d’accueil doit faire 1000 caractères au plus (il en fait 1001)."
    )


def test_franceconnect_is_offered_only_where_the_operator_allowed_it(
    manager: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = manager.web.get("/financeur/parametres")
    forced = manager.web.post(
        "/financeur/parametres", {"csrf": page.hidden("csrf"), "franceconnect_enabled": "oui"}
    )
    assert forced.status == 400
    assert not get_container().funders.get("region-idf").franceconnect_enabled  # type: ignore[union-attr]
    save_funder(
        get_container().funders,
        Funder("region-idf", "Région Île-de-France", franceconnect_enabled=True),
    )
    service = get_container().funder_settings
    monkeypatch.setattr(service, "_franceconnect_on_stage", True)
    page = manager.web.get("/financeur/parametres")
    assert "Proposer la connexion avec FranceConnect" in page.text
    off = manager.web.post("/financeur/parametres", {"csrf": page.hidden("csrf")})
    assert off.status == 303
    assert not get_container().funders.get("region-idf").franceconnect_enabled  # type: ignore[union-attr]
    on = manager.web.post(
        "/financeur/parametres", {"csrf": page.hidden("csrf"), "franceconnect_enabled": "oui"}
    )
    assert on.status == 303
    assert get_container().funders.get("region-idf").franceconnect_enabled  # type: ignore[union-attr]


def test_a_viewer_reads_the_settings_and_cannot_change_them(space: WebClient) -> None:
    invite(VIEWER, "region-idf", "consultation")
    viewer = first_login(space, VIEWER)
    page = viewer.web.get("/financeur/parametres")
    assert page.status == 200
    assert "permet de lire ces paramètres, pas de les modifier" in page.text
    assert "<textarea" not in page.body
    refused = viewer.web.post(
        "/financeur/parametres",
        {"csrf": page.hidden("csrf"), "messages_enabled": "oui", "home_text": "Modifié"},
    )
    assert refused.status == 403
    assert "Action réservée aux gestionnaires" in refused.text
    funder = get_container().funders.get("region-idf")
    assert funder is not None and not funder.messages_enabled and funder.home_text == ""


def test_another_funders_staff_sees_and_changes_only_its_own_settings(manager: Staff) -> None:
    page = manager.web.get("/financeur/parametres")
    manager.web.post(
        "/financeur/parametres", {"csrf": page.hidden("csrf"), "home_text": "Texte IDF"}
    )
    invite(OTHER, "region-hdf", "gestionnaire")
    other = first_login(another_browser(), OTHER)
    theirs = other.web.get("/financeur/parametres")
    assert "Région Hauts-de-France" in theirs.text
    assert "Texte IDF" not in theirs.body and "Région Île-de-France" not in theirs.text
    # Whatever the request says, the funder is the account's.
    other.web.post(
        "/financeur/parametres?funder=region-idf",
        {"csrf": theirs.hidden("csrf"), "home_text": "Texte HDF", "funder_code": "region-idf"},
    )
    assert get_container().funders.get("region-idf").home_text == "Texte IDF"  # type: ignore[union-attr]
    assert get_container().funders.get("region-hdf").home_text == "Texte HDF"  # type: ignore[union-attr]


def organisation_staff() -> WebClient:
    """The demo organisation staff member, signed in (the CGU of this test accepted)."""
    from local.demo import READY_STAFF, create_ready_staff_account

    create_ready_staff_account()
    web = another_browser()
    home = web.get("/organisme")
    page = web.post(
        "/organisme/connexion",
        {
            "csrf": home.hidden("csrf"),
            "username": READY_STAFF.email,
            "password": READY_STAFF.password,
        },
    )
    if page.location == "/cgu":
        step = web.get("/cgu")
        web.post("/cgu", {"csrf": step.hidden("csrf"), "version": step.hidden("version")})
    return web


def test_other_accounts_and_strangers_get_nothing_of_the_space(space: WebClient) -> None:
    assert space.get("/financeur/parametres").location == "/financeur?message=connexion-requise"
    assert (
        "Connectez-vous pour accéder à l’espace financeur"
        in space.get("/financeur?message=connexion-requise").text
    )
    staff = organisation_staff()
    assert staff.get("/organisme/messages").status == 200
    assert staff.get("/financeur/parametres").status == 404


def test_funder_staff_get_neither_the_trainees_pages_nor_the_organisations(
    manager: Staff,
) -> None:
    for path in ("/formations", "/compte", "/messages"):
        assert manager.web.get(path).location == "/financeur", path
    assert manager.web.get("/organisme/messages").status == 404


def test_logout_ends_the_session(manager: Staff) -> None:
    page = manager.web.get("/financeur")
    out = manager.web.post("/financeur/deconnexion", {"csrf": page.hidden("csrf")})
    assert out.location == "/financeur?message=deconnecte"
    assert manager.web.get("/financeur/parametres").location.startswith("/financeur?")


def test_organisation_staff_may_turn_totp_on(space: WebClient) -> None:
    from local.demo import READY_STAFF

    web = organisation_staff()
    page = web.get("/organisme/double-authentification")
    assert "Activer la double authentification" in page.text
    started = web.post(
        "/organisme/double-authentification", {"csrf": page.hidden("csrf"), "action": "commencer"}
    )
    secret = SECRET_KEY.search(started.body).group(1).replace(" ", "")  # type: ignore[union-attr]
    codes = web.post(
        "/organisme/double-authentification",
        {"csrf": page.hidden("csrf"), "action": "confirmer", "code": pyotp.TOTP(secret).now()},
    )
    assert len(RECOVERY.findall(codes.body)) == 10
    web.cookies.clear()
    home = web.get("/organisme")
    login = web.post(
        "/organisme/connexion",
        {
            "csrf": home.hidden("csrf"),
            "username": READY_STAFF.email,
            "password": READY_STAFF.password,
        },
    )
    assert login.location == "/double-authentification"
    assert web.get("/organisme/messages").location == "/double-authentification"
    csrf = web.get("/double-authentification").hidden("csrf")
    done = web.post(
        "/double-authentification",
        {"csrf": csrf, "code": pyotp.TOTP(secret).at(int(time.time()) + 30)},
    )
    assert done.location == "/organisme/messages"


def test_the_operators_funder_set_keeps_what_the_funder_chose(manager: Staff) -> None:
    page = manager.web.get("/financeur/parametres")
    manager.web.post(
        "/financeur/parametres", {"csrf": page.hidden("csrf"), "home_text": "Bienvenue"}
    )

    assert (
        admin.main(["--stage", "test", "funder", "set", "region-idf", "--retention-years", "6"])
        == 0
    )

    funder = get_container().funders.get("region-idf")
    assert funder is not None and funder.home_text == "Bienvenue" and funder.retention_years == 6


def test_closing_an_account_deletes_its_second_factor(manager: Staff) -> None:
    from chalicelib.store.erasure import DynamoErasureStore
    from chalicelib.store.second_factor import DynamoSecondFactorRepository

    account = get_container().accounts.find_by_email(MANAGER)
    assert account is not None
    store = DynamoSecondFactorRepository()
    assert store.get(account.account_id) is not None

    assert DynamoErasureStore().delete_account(account)

    assert store.get(account.account_id) is None


def test_the_api_gives_an_enrolled_member_nothing_before_the_code(manager: Staff) -> None:
    from tests.support.api import Api

    api = Api(manager.web.client)
    login = api.log_in(MANAGER, NEW_PASSWORD)
    assert login.status == 201 and login.json["pending_step"] == "totp"
    token = login.json["token"]
    for path in ("/api/v1/trainings", "/api/v1/me/data", "/api/v1/me/account"):
        refused = api.call("GET", path, token=token)
        assert refused.status == 403 and refused.json["error"]["step"] == "totp", path


def test_every_step_has_its_page_and_its_api_message() -> None:
    from chalicelib.api.auth import STEP_MESSAGES
    from chalicelib.web.http import STEP_PATHS

    assert set(STEP_PATHS) == set(Step) == set(STEP_MESSAGES)


@pytest.fixture
def window_start(portal: WebClient) -> Iterator[FakeClock]:
    """Every service's clock at the start of a rate-limit window (they are fixed windows: a run
    crossing a boundary would start a new count halfway)."""
    window = int(RATE_LIMITS["login"].window.total_seconds())
    start = int(time.time()) // window * window
    fake = FakeClock(datetime.fromtimestamp(start, UTC))
    original = container_module.now
    container_module.now = fake
    reset_container()
    yield fake
    container_module.now = original
    reset_container()


def test_both_staff_spaces_log_in_alike_and_share_the_address_allowance(
    portal: WebClient, window_start: FakeClock
) -> None:
    """One login for the organisations' and the funders' spaces (web/staff_login.py): the same
    single message, and one allowance of attempts per address across both."""
    allowed = RATE_LIMITS["login"].requests
    for attempt in range(allowed):
        space = "/organisme" if attempt % 2 else "/financeur"
        form = portal.get(space)
        page = portal.post(
            f"{space}/connexion",
            # Another address each time: the per-identifier delays stay out of the way.
            {"csrf": form.hidden("csrf"), "username": f"n{attempt}@example.fr", "password": "x"},
        )
        assert page.status == 401 and "Adresse mail ou mot de passe incorrect." in page.text
    for space in ("/organisme", "/financeur"):
        form = portal.get(space)
        page = portal.post(
            f"{space}/connexion",
            {"csrf": form.hidden("csrf"), "username": "autre@example.fr", "password": "x"},
        )
        assert page.status == 429 and "Trop de tentatives" in page.text, page.text


SECOND_MANAGER = "yanis.moreau@region-idf.example.fr"


def test_two_members_saving_the_settings_at_once_never_undo_each_other(manager: Staff) -> None:
    """Both read the form, the first one saves, then the second one: before settings had a
    version, the second write silently put back the old home text over the first one's change.
    Now it fails its condition, and the second member gets the form back, kept, with a clear
    French message and the current version."""
    invite(SECOND_MANAGER, "region-idf", "gestionnaire")
    other = first_login(another_browser(), SECOND_MANAGER)
    first_form = manager.web.get("/financeur/parametres")
    second_form = other.web.get("/financeur/parametres")
    assert first_form.hidden("version") == second_form.hidden("version")

    def save(staff: Staff, form: Page, **fields: str) -> Page:
        data = {"csrf": form.hidden("csrf"), "version": form.hidden("version"), **fields}
        return staff.web.post("/financeur/parametres", data)

    first = save(manager, first_form, messages_enabled="oui", home_text="Texte de Alix.")
    assert first.location == "/financeur/parametres?enregistre=oui"
    second = save(other, second_form, home_text="Texte de Yanis.")
    assert second.status == 400
    assert (
        "Les paramètres ont été modifiés par une autre personne entre-temps. Vérifiez-les et "
        "enregistrez de nouveau." in unescape(second.text)
    )
    assert "Texte de Yanis." in second.body  # the form is kept
    funder = get_container().funders.get("region-idf")
    assert funder is not None and funder.home_text == "Texte de Alix." and funder.messages_enabled

    # Checked, saved again: the form now carries the current version.
    assert second.hidden("version") != second_form.hidden("version")
    again = save(other, second, messages_enabled="oui", home_text="Texte de Yanis.")
    assert again.location == "/financeur/parametres?enregistre=oui"
    assert get_container().funders.get("region-idf").home_text == "Texte de Yanis."  # type: ignore[union-attr]


def test_two_writes_of_the_same_version_at_the_same_instant_one_wins(manager: Staff) -> None:
    """The store's conditional write, with both writes released together: exactly one lands."""
    funders = get_container().funders
    version = funders.get("region-idf").settings_version  # type: ignore[union-attr]
    with atomic_requests():
        results = run_together(
            lambda: funders.update_space_settings(
                "region-idf", home_text="A", expected_version=version
            ),
            lambda: funders.update_space_settings(
                "region-idf", home_text="B", expected_version=version
            ),
        )
    assert sorted(results) == [False, True]
    funder = funders.get("region-idf")
    assert funder is not None and funder.settings_version == version + 1
    assert funder.home_text == ("A" if results[0] else "B")


def test_an_operator_resets_a_lost_second_factor_and_the_next_login_enrols_again(
    manager: Staff, capsys: pytest.CaptureFixture[str]
) -> None:
    assert manager.web.get("/financeur").status == 200
    subject = "Votre double authentification a été réinitialisée"
    assert admin.main(["--stage", "test", "staff", "reset-totp", "--email", MANAGER]) == 0
    assert "Double authentification réinitialisée" in capsys.readouterr().out

    # The person is told (docs/specs/security.md: every credential change is mailed), by the
    # security mails' queue: the command only queues it, the queue's function sends it.
    assert subject not in [sent for sent, _ in mails_to(MANAGER)]
    assert run_queue(queue="security-mails") == 1
    [text] = [" ".join(text.split()) for sent, text in mails_to(MANAGER) if sent == subject]
    assert "vient d'être réinitialisée par un opérateur du portail" in text
    assert "le portail vous demandera d'installer de nouveau une application" in text
    assert "Si ce n'est pas vous, quelqu'un d'autre utilise peut-être votre compte" in text

    # The open session ended; the old secret and recovery codes serve no more.
    assert manager.web.get("/financeur/parametres").location.startswith("/financeur?")
    assert (
        get_container().second_factor_store.get(
            get_container().accounts.find_by_email(MANAGER).account_id  # type: ignore[union-attr]
        )
        is None
    )
    manager.web.cookies.clear()
    page = password_login(manager.web, MANAGER, NEW_PASSWORD)
    assert page.location == "/double-authentification/activation"  # a new enrolment
    assert manager.web.get("/financeur/parametres").location == page.location
    enrol = manager.web.get(page.location)
    secret = SECRET_KEY.search(enrol.body).group(1).replace(" ", "")  # type: ignore[union-attr]
    assert secret != manager.secret
    old_code = manager.web.post(
        page.location, {"csrf": enrol.hidden("csrf"), "code": manager.code(30)}
    )
    assert old_code.status == 400
    codes = manager.web.post(
        page.location, {"csrf": enrol.hidden("csrf"), "code": pyotp.TOTP(secret).now()}
    )
    assert codes.status == 200 and len(RECOVERY.findall(codes.body)) == 10

    account_id = get_container().accounts.find_by_email(MANAGER).account_id  # type: ignore[union-attr]
    events = [e.event for e in get_container().audit.events(account_id, limit=50)]
    assert "totp-reset" in events


def test_a_reset_mail_ses_refuses_goes_back_to_its_queue_and_the_reset_stands(
    manager: Staff, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.integration.test_mail_throttling import ses_refusing

    subject = "Votre double authentification a été réinitialisée"
    assert admin.main(["--stage", "test", "staff", "reset-totp", "--email", MANAGER]) == 0
    account_id = get_container().accounts.find_by_email(MANAGER).account_id  # type: ignore[union-attr]

    with ses_refusing("MessageRejected", {1}), pytest.raises(AssertionError, match="MailNotSent"):
        run_queue(max_messages=1, queue="security-mails")
    assert subject not in [sent for sent, _ in mails_to(MANAGER)]
    assert get_container().second_factor_store.get(account_id) is None  # the reset stands
    assert not get_container().accounts.get(account_id).totp_enabled  # type: ignore[union-attr]

    # SQS delivers the message again: the mail goes, once.
    assert run_queue(queue="security-mails") == 1
    assert [sent for sent, _ in mails_to(MANAGER)].count(subject) == 1


def test_a_reset_of_an_unknown_or_trainee_address_is_refused(
    space: WebClient, capsys: pytest.CaptureFixture[str]
) -> None:
    from local.demo import READY, create_ready_account

    get_container().terms.publish("2026-11", "# CGU")
    create_ready_account()
    for email in ("personne@nulle-part.fr", READY.email):
        assert admin.main(["--stage", "test", "staff", "reset-totp", "--email", email]) == 2
        assert "aucun compte d'organisme ou de financeur" in capsys.readouterr().err
