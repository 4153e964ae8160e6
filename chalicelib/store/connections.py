"""How PynamoDB reaches DynamoDB: one botocore session and one client per thread, made with a
data loader that only looks for DynamoDB's description.

Imported by `chalicelib/store/models.py`, before any model makes a connection: the two patches
below apply to every PynamoDB connection of the process.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import botocore.loaders
import botocore.session
from botocore.exceptions import DataNotFoundError
from pynamodb.connection import base as pynamodb_connection


class DynamoDBLoader(botocore.loaders.Loader):
    """botocore's data loader for the sessions PynamoDB uses, which only ever make DynamoDB
    clients. To check a service's name, botocore's own loader lists every service it ships (449
    directories, each opened, for the description and again for the endpoint rules): 20 ms of
    every cold start. This one looks in DynamoDB's directory only; any other service is unknown
    to it, as a misspelt one is to botocore (`UnknownServiceError` at client creation)."""

    SERVICE = "dynamodb"

    def list_available_services(self, type_name: str) -> list[str]:
        try:
            self.list_api_versions(self.SERVICE, type_name)
        except DataNotFoundError:
            return []
        return [self.SERVICE]


def dynamodb_session() -> botocore.session.Session:
    """A botocore session as `botocore.session.get_session()` makes it, its loader searching the
    same paths (AWS_DATA_PATH first, as `botocore.loaders.create_loader` does)."""
    session = botocore.session.get_session()
    data_path = session.get_config_variable("data_path")
    extra_paths = (
        [os.path.expanduser(os.path.expandvars(path)) for path in data_path.split(os.pathsep)]
        if data_path
        else []
    )
    session.register_component("data_loader", DynamoDBLoader(extra_search_paths=extra_paths))
    return session


_thread_sessions = threading.local()


def one_botocore_session_per_thread() -> botocore.session.Session:
    """PynamoDB gives each model's connection a botocore session of its own, and a new session
    reads and parses DynamoDB's service description again (about 0.3 s each on a cold Lambda):
    a first request touching five tables paid it five times. One session per thread (a session
    is not thread-safe) shares that work; each connection still makes its own client."""
    session = getattr(_thread_sessions, "session", None)
    if session is None:
        session = _thread_sessions.session = dynamodb_session()
    return session


# PynamoDB calls the module's `get_session` each time a connection needs a session.
pynamodb_connection.get_session = one_botocore_session_per_thread  # type: ignore[assignment]

_make_client = pynamodb_connection.Connection.client.fget


def _client_key(connection: pynamodb_connection.Connection) -> tuple[object, ...]:
    """What PynamoDB makes a client from (`Connection.client`): connections that agree on it
    can send through the same client."""
    return (
        connection.region,
        connection.host,
        connection._connect_timeout_seconds,
        connection._read_timeout_seconds,
        connection._max_pool_connections,
        repr(connection._retry_configuration),
        repr(connection._max_retry_attempts_exception),
    )


def _poisoned(client: Any) -> bool:
    """PynamoDB's own test (`Connection.client`): a client whose credentials came back empty
    from the metadata service stays without them, so it is made again."""
    return bool(client._request_signer and not client._request_signer._credentials)


def one_client_per_thread(connection: pynamodb_connection.Connection) -> Any:
    """PynamoDB makes a botocore client for each model's connection and for each transaction's,
    about 10 ms each: « Mes formations » on a cold Lambda made five. Connections with the same
    settings (all of the portal's: no extra headers) share one per thread instead. The client
    that PynamoDB makes registers the `before-send` handler of its connection only, which adds
    extra headers: hence none here."""
    if connection._client is not None and not _poisoned(connection._client):
        return connection._client
    if connection._extra_headers is not None:
        return _make_client(connection)
    clients: dict[tuple[object, ...], Any] = _thread_sessions.__dict__.setdefault("clients", {})
    key = _client_key(connection)
    client = clients.get(key)
    if client is None or _poisoned(client):
        connection._client = None
        client = clients[key] = _make_client(connection)
    connection._client = client
    return client


pynamodb_connection.Connection.client = property(one_client_per_thread)  # type: ignore[assignment]


def forget_clients() -> None:
    """The shared clients were made for a region and credentials that changed (tests, the local
    stack): the next connection makes new ones."""
    _thread_sessions.__dict__.pop("clients", None)
