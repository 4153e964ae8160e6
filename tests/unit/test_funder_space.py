"""The funders' space services: staff invitation (roles) and « Paramètres » (what a funder may
change itself, each change audited)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from chalicelib.services.accounts.model import AccountKind, PortalUrls, StaffRole, Step
from chalicelib.services.accounts.staff import (
    FunderStaffRequest,
    InvalidStaff,
    StaffInvitations,
)
from chalicelib.services.errors import Invalid, NotFound
from chalicelib.services.funders.model import Funder
from chalicelib.services.funders.settings import (
    MAX_HOME_TEXT,
    FunderSettings,
    SettingsChange,
    home_paragraphs,
)
from chalicelib.services.funders.staff import FunderStaff
from tests.support.fakes import (
    FakeClock,
    MemoryAccounts,
    MemoryAudit,
    MemoryFunders,
    MemoryMessages,
    PlainTestHasher,
    RecordingMailer,
)

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
IDF = Funder("region-idf", "Région Île-de-France")


def invite(accounts: MemoryAccounts, mailer: RecordingMailer, audit: MemoryAudit, **fields: str):
    request = FunderStaffRequest(
        **{
            "email": "Alix.Durand@Region.example.fr",
            "funder_code": "region-idf",
            "role": "gestionnaire",
            **fields,
        }
    )
    return StaffInvitations(
        accounts,
        registry=MemoryMessages(),
        funders=MemoryFunders(IDF),
        hasher=PlainTestHasher(),
        mailer=mailer,
        audit=audit,
        urls=PortalUrls("https://portail.example.gouv.fr"),
        clock=FakeClock(NOW),
    ).funder(request)


def test_an_invited_member_gets_a_temporary_password_and_must_enrol_totp_last() -> None:
    accounts, mailer, audit = MemoryAccounts(), RecordingMailer(), MemoryAudit()

    account = invite(accounts, mailer, audit, role="consultation")

    assert account.kind is AccountKind.FUNDER_STAFF
    assert (account.funder_code, account.staff_role) == ("region-idf", StaffRole.VIEWER)
    assert account.email == "alix.durand@region.example.fr"
    assert account.pending_step(None) is Step.PASSWORD
    done = account.updated(password_hash="h", secret_answer_hash="h", terms_version="1")
    assert done.pending_step("1") is Step.TOTP_ENROL
    assert done.updated(totp_enabled=True).pending_step("1") is None
    (mail,) = mailer.sent
    assert "https://portail.example.gouv.fr/financeur/" in mail.text
    assert "Région Île-de-France" in mail.text and "consultation" in mail.text
    assert audit.names() == ["funder-staff-created"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "pas-une-adresse"}, "L'adresse mail n'est pas valide."),
        ({"funder_code": "region-xyz"}, "Financeur inconnu : region-xyz."),
        ({"role": "admin"}, "Le rôle doit être « gestionnaire » ou « consultation »."),
    ],
)
def test_a_wrong_invitation_is_refused_in_french(fields: dict[str, str], message: str) -> None:
    accounts, mailer = MemoryAccounts(), RecordingMailer()
    with pytest.raises(InvalidStaff, match=message):
        invite(accounts, mailer, MemoryAudit(), **fields)
    assert not accounts.items and not mailer.sent


def test_an_address_with_an_account_is_not_invited_twice() -> None:
    accounts, mailer = MemoryAccounts(), RecordingMailer()
    invite(accounts, mailer, MemoryAudit())
    with pytest.raises(InvalidStaff, match="déjà un compte"):
        invite(accounts, mailer, MemoryAudit())
    assert len(mailer.sent) == 1


def settings_of(
    *funders: Funder, on_stage: bool = True
) -> tuple[FunderSettings, MemoryFunders, MemoryAudit]:
    repository, audit = MemoryFunders(*funders), MemoryAudit()
    return FunderSettings(repository, audit, franceconnect_on_stage=on_stage), repository, audit


def test_each_change_is_saved_and_audited_under_the_member() -> None:
    service, repository, audit = settings_of(IDF)

    changed = service.change(
        "region-idf",
        "acc-1",
        SettingsChange(True, False, "  Bonjour\r\n\r\nÀ bientôt  \n"),
        "192.0.2.1",
    )

    assert sorted(changed) == ["home_text", "messages_enabled"]
    funder = repository.items["region-idf"]
    assert funder.messages_enabled and funder.home_text == "Bonjour\n\nÀ bientôt"
    assert home_paragraphs(funder.home_text) == ["Bonjour", "À bientôt"]
    details = {event.details["setting"]: event.details for event in audit.events}  # type: ignore[index]
    assert details["messages_enabled"] == {
        "funder": "region-idf",
        "setting": "messages_enabled",
        "value": "oui",
    }
    assert details["home_text"]["value"] == "18 caractères"
    assert {event.account_id for event in audit.events} == {"acc-1"}


def test_nothing_changed_writes_nothing() -> None:
    service, repository, audit = settings_of(IDF)
    assert service.change("region-idf", "acc-1", SettingsChange(False, False, ""), None) == []
    assert repository.calls["update_space_settings"] == 0 and not audit.events


def test_the_home_text_has_a_length_limit() -> None:
    service, repository, _ = settings_of(IDF)
    with pytest.raises(Invalid) as refused:
        service.change(
            "region-idf", "acc-1", SettingsChange(False, False, "é" * (MAX_HOME_TEXT + 1)), None
        )
    assert refused.value.errors == {
        "home_text": "Le texte d’accueil doit faire 1000 caractères au plus (il en fait 1001)."
    }
    assert repository.items["region-idf"].home_text == ""


@pytest.mark.parametrize(
    ("funder", "on_stage", "offered"),
    [
        (IDF, True, False),  # the operator never allowed it
        (
            Funder("region-idf", "IDF", franceconnect_allowed=True),
            False,
            False,
        ),  # not on this stage
        (Funder("region-idf", "IDF", franceconnect_allowed=True), True, True),
        (Funder("region-idf", "IDF", franceconnect_enabled=True), True, True),  # set before
    ],
)
def test_franceconnect_is_offered_only_if_the_operator_and_the_stage_allow_it(
    funder: Funder, on_stage: bool, offered: bool
) -> None:
    service, repository, _ = settings_of(funder, on_stage=on_stage)
    assert service.read("region-idf").franceconnect_offered is offered
    try:
        service.change("region-idf", "acc-1", SettingsChange(False, True, ""), None)
        refused = False
    except Invalid as error:
        refused = "franceconnect_enabled" in error.errors
    assert repository.items["region-idf"].franceconnect_enabled is (
        offered or funder.franceconnect_enabled
    )
    assert refused is not (offered or funder.franceconnect_enabled)


def test_a_funder_may_turn_franceconnect_off_even_where_it_is_no_longer_offered() -> None:
    service, repository, _ = settings_of(
        Funder("region-idf", "IDF", franceconnect_enabled=True), on_stage=False
    )
    assert service.change("region-idf", "acc-1", SettingsChange(False, False, ""), None) == [
        "franceconnect_enabled"
    ]
    assert not repository.items["region-idf"].franceconnect_enabled


def test_a_member_is_a_funder_staff_account_of_an_existing_funder() -> None:
    accounts, mailer, audit = MemoryAccounts(), RecordingMailer(), MemoryAudit()
    invited = invite(accounts, mailer, audit, role="consultation")
    staff = FunderStaff(accounts, MemoryFunders(IDF))

    member = staff.member(invited.account_id)

    assert (member.funder_code, member.role, member.can_manage) == (
        "region-idf",
        StaffRole.VIEWER,
        False,
    )
    caller = member.caller("192.0.2.1")
    assert (caller.funder_code, caller.actor_id, caller.role) == (
        "region-idf",
        invited.account_id,
        "consultation",
    )
    trainee = accounts.add(replace(invited, account_id="trainee", funder_code=None))
    for gone in (
        lambda: staff.member("unknown"),
        lambda: staff.member(trainee.account_id),  # not funder staff
        lambda: FunderStaff(accounts, MemoryFunders()).member(invited.account_id),  # no funder
    ):
        with pytest.raises(NotFound):
            gone()
