"""API keys of the funders' systems: shown once, only a hash kept, revocable, throttled, audited."""

from __future__ import annotations

import hashlib

import pytest

from chalicelib.services.funders.api_keys import (
    MAX_FAILURES,
    FunderApiKeys,
    TooManyFailures,
    UnknownFunder,
)
from chalicelib.services.funders.model import Funder
from tests.support.builder import build
from tests.support.fakes import FakeClock, MemoryAudit, MemoryCounters, MemoryFunders
from tests.support.funder_fakes import MemoryApiKeys


@pytest.fixture
def world() -> tuple[FunderApiKeys, MemoryApiKeys, MemoryCounters, MemoryAudit, FakeClock]:
    built = build(
        funders=MemoryFunders(
            Funder("region-idf", "Région IDF"), Funder("region-hdf", "Région HDF")
        )
    )
    ports = built.ports
    return built.funder_api_keys, ports.api_key_store, ports.counters, ports.audit, ports.clock


def test_a_key_is_shown_once_and_only_its_sha256_is_stored(world) -> None:
    service, keys, _, audit, _ = world
    issued = service.issue("region-idf")
    stored = keys.items[issued.key_id]
    assert issued.key.startswith(f"pfk_{issued.key_id}_") and len(issued.key) > 50
    assert stored.secret_hash == hashlib.sha256(issued.key.encode()).hexdigest()
    assert issued.key not in repr(stored)
    assert audit.names() == ["funder-api-key-created"]
    client = service.authenticate(issued.key, "192.0.2.1", "GET /api/v1/funder/files")
    assert client is not None and client.funder_code == "region-idf"
    assert client.key_id == issued.key_id


def test_an_unknown_funder_gets_no_key(world) -> None:
    service, keys, *_ = world
    with pytest.raises(UnknownFunder):
        service.issue("region-xx")
    assert keys.items == {}


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # wrong secret, right id
        lambda key: "pfk_000000000000_" + key.rpartition("_")[2],  # unknown id
        lambda key: key.upper(),
        lambda key: "",
        lambda key: key + "x",
    ],
)
def test_a_wrong_key_is_refused_and_counted(world, mangle) -> None:
    service, _, counters, audit, _ = world
    issued = service.issue("region-idf")
    assert service.authenticate(mangle(issued.key), "192.0.2.1", "GET /x") is None
    assert counters.calls["increment"] == 1
    assert "funder-api-key-used" not in audit.names()


def test_a_revoked_key_is_refused_at_once(world) -> None:
    service, *_ = world
    issued = service.issue("region-idf")
    assert not service.revoke("region-hdf", issued.key_id)  # another funder's key
    assert service.revoke("region-idf", issued.key_id)
    assert not service.revoke("region-idf", issued.key_id)  # already revoked
    assert service.authenticate(issued.key, "192.0.2.1", "GET /x") is None
    assert [record.revoked_at is not None for record in service.list("region-idf")] == [True]


def test_every_accepted_use_is_audited_with_the_route_and_address(world) -> None:
    service, _, _, audit, _ = world
    issued = service.issue("region-idf")
    service.authenticate(issued.key, "198.51.100.7", "GET /api/v1/funder/files")
    used = audit.events[-1]
    assert used.event == "funder-api-key-used"
    assert used.account_id == f"funder-api-key#{issued.key_id}"
    assert used.client_ip == "198.51.100.7"
    assert used.details == {"funder": "region-idf", "route": "GET /api/v1/funder/files"}


def test_failures_from_one_address_are_throttled_before_any_check(world) -> None:
    service, keys, _, _, clock = world
    issued = service.issue("region-idf")
    for _ in range(MAX_FAILURES):
        assert service.authenticate("pfk_wrong", "192.0.2.1", "GET /x") is None
    lookups = keys.calls["get"]
    with pytest.raises(TooManyFailures):
        service.authenticate(issued.key, "192.0.2.1", "GET /x")  # even the right key waits
    assert keys.calls["get"] == lookups
    # Another address is not held back, and the window ends.
    assert service.authenticate(issued.key, "192.0.2.2", "GET /x") is not None
    clock.advance(minutes=16)
    assert service.authenticate(issued.key, "192.0.2.1", "GET /x") is not None


def test_the_secret_is_compared_in_constant_time(world, monkeypatch) -> None:
    from chalicelib.services.funders import api_keys

    service, *_ = world
    issued = service.issue("region-idf")
    compared: list[tuple[str, str]] = []
    real = api_keys.secrets.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(api_keys.secrets, "compare_digest", spy)
    service.authenticate(issued.key, "192.0.2.1", "GET /x")
    service.authenticate("pfk_000000000000_" + "a" * 43, "192.0.2.1", "GET /x")  # unknown id
    assert len(compared) == 2  # the unknown id is hashed and compared too: the same work
