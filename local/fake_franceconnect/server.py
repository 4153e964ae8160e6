"""The fake provider over HTTP: a small WSGI app on FranceConnect v2's paths, served in a thread
of the local stack (or of a test) on its own port."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from types import TracebackType

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from local.fake_franceconnect.identities import IDENTITIES, TestIdentity
from local.fake_franceconnect.pages import authorization_page, error_page
from local.fake_franceconnect.provider import FakeProvider
from local.fake_franceconnect.rules import Fault, ProviderError, RegisteredClient

API = "/api/v2"
INTERACTION_PREFIX = f"{API}/interaction/"
NO_CHOICE = "Choisissez une identité de test, ou « Annuler »."


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request: the local console and test output stay readable."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class FakeFranceConnect:
    """`with FakeFranceConnect([client]) as fake:` serves on a free port until the block ends."""

    def __init__(
        self,
        clients: list[RegisteredClient],
        host: str = "127.0.0.1",
        port: int = 0,
        identities: tuple[TestIdentity, ...] = IDENTITIES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.provider = FakeProvider(clients, identities, clock)
        self._server = make_server(
            host, port, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self.provider.issuer = f"{self.url}{API}"
        self._thread: threading.Thread | None = None

    @property
    def issuer(self) -> str:
        return self.provider.issuer

    def start(self) -> FakeFranceConnect:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeFranceConnect:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # Test hooks, from the provider ------------------------------------------------------------

    def rotate_key(self) -> str:
        return self.provider.rotate_key()

    def inject(self, *faults: Fault) -> None:
        self.provider.inject(*faults)

    def clear_faults(self) -> None:
        self.provider.clear_faults()

    # HTTP -----------------------------------------------------------------------------------

    def _wsgi(self, environ: dict, start_response: object) -> object:
        request = Request(environ)
        try:
            response = self._route(request)
        except ProviderError as refused:
            response = self._refusal(request, refused)
        response.headers["Cache-Control"] = "no-store"
        return response(environ, start_response)  # type: ignore[arg-type]

    def _route(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == f"{API}/.well-known/openid-configuration" and method == "GET":
            return _json(self.provider.discovery())
        if path == f"{API}/jwks" and method == "GET":
            return _json(self.provider.jwks())
        if path == f"{API}/authorize" and method == "GET":
            interaction_id = self.provider.begin_authorization(request.args.to_dict())
            return self._picker(interaction_id)
        if path.startswith(INTERACTION_PREFIX) and method == "POST":
            return self._conclude(path.removeprefix(INTERACTION_PREFIX), request)
        if path == f"{API}/token" and method == "POST":
            return _json(self.provider.exchange(request.form.to_dict()))
        if path == f"{API}/userinfo" and method in ("GET", "POST"):
            token = self.provider.userinfo(request.headers.get("Authorization", ""))
            return Response(token, content_type="application/jwt")
        if path == f"{API}/session/end" and method == "GET":
            return _redirect(self.provider.end_session(request.args.to_dict()))
        return Response(
            error_page(["Cette adresse n’existe pas chez FranceConnect."]),
            status=404,
            content_type="text/html; charset=utf-8",
        )

    def _picker(self, interaction_id: str, error: str | None = None) -> Response:
        found = self.provider.interaction(interaction_id)
        client_id = found.client_id if found else ""
        page = authorization_page(
            interaction_id, client_id, list(self.provider.identities.values()), error
        )
        return Response(page, status=400 if error else 200, content_type="text/html; charset=utf-8")

    def _conclude(self, interaction_id: str, request: Request) -> Response:
        if request.form.get("action") == "annuler":
            return _redirect(self.provider.conclude(interaction_id, None))
        chosen = request.form.get("identite", "")
        if chosen not in self.provider.identities:
            if self.provider.interaction(interaction_id) is None:
                raise ProviderError(400, "invalid_request", ["Cette demande a expiré."])
            return self._picker(interaction_id, NO_CHOICE)
        return _redirect(self.provider.conclude(interaction_id, chosen))

    def _refusal(self, request: Request, refused: ProviderError) -> Response:
        # Browsers get a page; the back-channel endpoints answer JSON like an OAuth server.
        if request.path in (f"{API}/token", f"{API}/userinfo"):
            body = {"error": refused.error, "error_description": " ".join(refused.problems)}
            response = _json(body, status=refused.status)
            if refused.status == 401:
                response.headers["WWW-Authenticate"] = f'Bearer error="{refused.error}"'
            return response
        return Response(
            error_page(refused.problems),
            status=refused.status,
            content_type="text/html; charset=utf-8",
        )


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _redirect(location: str) -> Response:
    return Response("", status=302, headers={"Location": location})
