"""The local stack's AWS emulator: moto's server, answering one request at a time, and checking
browser-based S3 uploads against their POST policy as S3 does (moto does not).

DynamoDB applies each request atomically. moto applies one in several Python steps, and a
cancelled TransactWriteItems restores a copy of the whole table taken before it ran, undoing
what another request wrote meanwhile. Under concurrent requests (the load bench, several browser
tabs) that loses sessions and challenges and shows errors AWS would never give. Serialising the
emulator's requests gives back per-request atomicity; the portal's own races (between requests)
are untouched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server


class AtomicMotoServer(ThreadedMotoServer):
    """`post_policy_secret`: the secret key the app signs with; browser-based POSTs to S3 are
    then checked against their policy as S3 does (local/post_policy.py)."""

    def __init__(self, *args: Any, post_policy_secret: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._post_policy_secret = post_policy_secret

    def _server_entry(self) -> None:
        dispatcher: Any = DomainDispatcherApplication(create_backend_app)
        if self._post_policy_secret is not None:
            from local.post_policy import enforce_post_policies

            dispatcher = enforce_post_policies(dispatcher, self._post_policy_secret)
        lock = threading.Lock()

        def one_at_a_time(
            environ: dict[str, Any], start_response: Callable[..., Any]
        ) -> Iterable[bytes]:
            with lock:
                return list(dispatcher(environ, start_response))  # the whole answer, inside

        self._server = make_server(
            self._ip_address, self._port, one_at_a_time, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()
