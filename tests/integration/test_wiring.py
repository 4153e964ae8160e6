"""The container and the tests' builder wire the same services the same way.

Both are `chalicelib.wiring.Services` over their own ports; what could still drift is the
ports themselves (a port the container has and the fakes lack, or the other way round) and a
service made outside the wiring. Each service is described by where every collaborator comes
from (which port, which other service, a new helper of which class), and both descriptions
must match.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import cached_property
from typing import Any

import pytest

from chalicelib.container import Container, get_settings
from chalicelib.services.accounts.login import Login
from chalicelib.services.security.safeguards import Safeguards
from chalicelib.services.security.throttling import LoginThrottle
from chalicelib.wiring import SERVICE_NAMES, Ports, Services
from tests.support.builder import PORT_NAMES, build

FACTORIES = ("inactivity_job", "retention_purge", "funder_file_ingestion")
PRIMITIVES = (type(None), bool, int, float, str, bytes)


def port_names_of_protocol() -> set[str]:
    return {name for name, value in vars(Ports).items() if isinstance(value, property)}


def origin(services: Services, value: Any, depth: int = 0) -> object:
    """Where a collaborator comes from, in words that do not depend on real or fake ports."""
    if value is services:
        return "the services"
    if isinstance(value, PRIMITIVES):
        return "value"  # settings differ by stage (a captcha answer in tests, none in prod)
    if inspect.ismethod(value):
        return (origin(services, value.__self__, depth), value.__func__.__name__)
    for name in sorted(PORT_NAMES):
        if getattr(services.ports, name) is value:
            return f"port {name}"
    for name in SERVICE_NAMES:
        if services.__dict__.get(name) is value:
            return f"service {name}"
    if isinstance(value, dict):
        return {key: origin(services, item, depth) for key, item in value.items()}
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        for name in sorted(PORT_NAMES):  # a function of a port that is a module (the captcha's)
            if getattr(getattr(services.ports, name), value.__name__, None) is value:
                return (f"port {name}", value.__name__)
        return "function"
    if type(value).__module__.startswith("chalicelib.services") and depth < 2:
        return (type(value).__qualname__, describe(services, value, depth + 1))
    return f"other {type(value).__qualname__}"


def describe(services: Services, service: object, depth: int = 0) -> dict[str, object]:
    return {
        name: origin(services, value, depth)
        for name, value in sorted(vars(service).items())
        # State the services build up as they work, not collaborators.
        if name not in ("_funder_cache", "_dummy_hash")
    }


def graph(services: Services) -> dict[str, object]:
    made: dict[str, Callable[[], object]] = {
        name: lambda n=name: getattr(services, n) for name in SERVICE_NAMES
    }
    made.update({name: getattr(services, name) for name in FACTORIES})
    instances = {name: make() for name, make in made.items()}
    return {
        name: (type(instance).__qualname__, describe(services, instance))
        for name, instance in instances.items()
    }


@pytest.fixture
def container() -> Container:
    return Container(get_settings())


def test_the_container_and_the_builder_offer_the_same_ports(container: Container) -> None:
    assert port_names_of_protocol() == set(PORT_NAMES)
    for name in PORT_NAMES:
        assert hasattr(type(container), name), f"the container has no port {name}"


def test_the_container_and_the_builder_wire_the_same_graph(container: Container) -> None:
    from_container = graph(container)
    # The test stage has no FranceConnect settings: the container's provider is None.
    provider = {} if container.franceconnect_provider else {"franceconnect_provider": None}
    from_builder = graph(build(**provider))
    assert set(from_container) == set(SERVICE_NAMES) | set(FACTORIES)
    for name in from_container:
        assert from_container[name] == from_builder[name], name


def test_the_description_tells_a_port_from_another(container: Container) -> None:
    """The comparison can fail: a service given another port than the wiring's is seen."""
    services = build()
    assert origin(services, services.ports.accounts) == "port accounts"
    assert origin(services, services.ports.dossiers) == "port dossiers"
    assert origin(services, services.login_throttle) == "service login_throttle"
    assert describe(services, services.login)["accounts"] == "port accounts"


class HandWiredLogin(Container):
    """A container that wires one service by itself, as `container.py` did before the builder:
    its login counts failures on counters of its own instead of the shared login throttle."""

    @cached_property
    def login(self) -> Login:
        own_throttle = LoginThrottle(self.counters, self.clock)
        safeguards = Safeguards(
            self.hasher, own_throttle, self.challenges, self.audit, self.clock, self.rate_limiter
        )
        return Login(self.accounts, self.sessions, self.terms, safeguards, self.mailer, self.urls)


def test_a_service_wired_by_hand_in_the_container_is_caught() -> None:
    drifted = graph(HandWiredLogin(get_settings()))
    fakes = graph(build(franceconnect_provider=None))
    assert [name for name in drifted if drifted[name] != fakes[name]] == ["login"]
