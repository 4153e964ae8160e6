"""A faithful fake of FranceConnect v2 for the local stack and the tests
(docs/specs/franceconnect.md)."""

from local.fake_franceconnect.clients import LOCAL_CLIENT_ID, LOCAL_CLIENT_SECRET, portal_client
from local.fake_franceconnect.identities import IDENTITIES, TestIdentity, identity
from local.fake_franceconnect.rules import Fault, RegisteredClient
from local.fake_franceconnect.server import FakeFranceConnect

__all__ = [
    "IDENTITIES",
    "LOCAL_CLIENT_ID",
    "LOCAL_CLIENT_SECRET",
    "FakeFranceConnect",
    "Fault",
    "RegisteredClient",
    "TestIdentity",
    "identity",
    "portal_client",
]
