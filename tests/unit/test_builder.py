"""The tests' builder: a misspelt port is refused (it would leave the default in place without a
word), and the defaults follow the ports a test gives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.builder import build
from tests.support.fakes import FakeClock, MemoryDossierLookup, MemoryUnreadSessions


def test_a_name_that_is_no_port_is_refused() -> None:
    with pytest.raises(TypeError, match="mailler"):
        build(mailler=object())


def test_the_defaults_follow_the_given_ports() -> None:
    clock = FakeClock(datetime(2026, 3, 20, 8, 0, tzinfo=UTC))
    dossiers = MemoryDossierLookup()
    sessions = MemoryUnreadSessions()
    built = build(clock=clock, dossiers=dossiers, session_store=sessions)
    assert built.ports.counters._clock is clock
    assert built.ports.accounts.dossiers is dossiers
    assert built.ports.identity_dossiers.lookup is dossiers
    assert built.ports.message_store.sessions is sessions
    assert built.ports.erasure_store.accounts is built.ports.accounts


def test_each_service_is_made_once_and_shared() -> None:
    built = build()
    assert built.login is built.login
    assert built.franceconnect_login._login is built.login
    assert built.recovery._throttle is built.login_throttle is built.account_settings._throttle
