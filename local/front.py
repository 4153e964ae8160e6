"""The local front: the portal reached as a browser reaches it in AWS (docs/specs/architecture.md,
D9 and D10).

Two hosts on one port, as in AWS two addresses lead to the same function:

- the public address (the host of PUBLIC_BASE_URL, `localhost:<port>`) plays **CloudFront**:
  `/static/*` comes from the built assets, as the distribution serves them from the S3 assets
  bucket (same content types and cache headers as `infra.deploy` uploads), compressed when the
  browser accepts gzip; everything else goes to the API with the origin path `/<stage>` and the
  origin's secret header, the viewer's address in `CloudFront-Viewer-Address`;
- any other host (`127.0.0.1:<port>`) plays the API's own **execute-api** address: the stage
  prefix is in the path, and the web ACL of infra/template.yaml sends a request without the
  secret header to the public address.

Behind both, **API Gateway (REST, Lambda proxy integration)** calls the Chalice app's Lambda
handler, `app(event, context)`, with the proxy event, and turns its answer into HTTP the way the
service documents it (README, « Ce que la pile locale reproduit d'AWS »):

- request: `headers` + `multiValueHeaders`, `queryStringParameters` +
  `multiValueQueryStringParameters`, `pathParameters` and `resource` from the route that API
  Gateway would match (a literal segment beats a `{parameter}`; no match: 403 « Missing
  Authentication Token »), `requestContext` (requestId, stage, resourcePath, identity.sourceIp),
  and a body base64-encoded with `isBase64Encoded` when its Content-Type is a binary media type;
- response: a base64 body is decoded only when the **first** type of the request's `Accept`
  header matches one of the API's binary media types; otherwise the browser gets the base64 text;
- the binary media types are those that `chalice package` writes in the API's definition;
- limits: 10 MB request payload (413), 29 s integration timeout (504), Lambda's 6 MB response
  (502), and an error raised by the handler gives 502 « Internal server error ».

Never packaged: werkzeug comes with moto's server, a development dependency.
"""

from __future__ import annotations

import base64
import fnmatch
import gzip
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from werkzeug.datastructures import Headers
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from chalicelib.web import static_files

# API Gateway quotas for a REST API (README cites the page): payload and integration timeout.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
INTEGRATION_TIMEOUT_SECONDS = 29.0
# Lambda's quota for a synchronous invocation's response.
MAX_LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024
ACCOUNT_ID = "123456789012"
LOCAL_API_ID = "local0api0"
# CloudFront compresses these types (a subset of its documented list) when the viewer asks.
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
COMPRESSIBLE_EXTRA = ("application/manifest+json",)
MIN_COMPRESSED_BYTES = 1000
# The address API Gateway sees behind CloudFront: an edge server's, not the viewer's.
CLOUDFRONT_EDGE_IP = "198.51.100.10"

LambdaHandler = Callable[[dict[str, Any], Any], Any]
# WSGI joins a repeated header into one value; the server keeps the list here for the event's
# multiValueHeaders.
RAW_HEADERS = "local.front.raw_headers"


def binary_media_types(chalice_app: Any) -> list[str]:
    """The binaryMediaTypes of the deployed API: what `chalice package` (and `chalice deploy`)
    write into the API's OpenAPI definition, `x-amazon-apigateway-binary-media-types`."""
    from chalice.deploy.swagger import CFNSwaggerGenerator

    definition = CFNSwaggerGenerator().generate_swagger(chalice_app)
    return list(definition.get("x-amazon-apigateway-binary-media-types", []))


def api_stage_name(stage: str = "local") -> str:
    """The API Gateway stage that `chalice deploy` creates ("api" unless the config says)."""
    from chalice.cli.factory import CLIFactory

    project_dir = str(Path(__file__).resolve().parent.parent)
    return CLIFactory(project_dir).create_config_obj(stage).api_gateway_stage


def matches_binary_type(media_type: str, binary_types: Iterable[str]) -> bool:
    """One media type against the API's list, where `*` is a wildcard (`image/*`, `*/*`)."""
    media_type = media_type.split(";", 1)[0].strip().lower()
    return bool(media_type) and any(
        fnmatch.fnmatchcase(media_type, pattern.lower()) for pattern in binary_types
    )


def first_accepted_type(accept: str | None) -> str:
    """The first media type of an Accept header, whatever its q-value: API Gateway decides on
    this one alone (« API Gateway uses the first Accept header from clients… »)."""
    if not accept:
        return ""
    return accept.split(",", 1)[0].split(";", 1)[0].strip()


# ---------------------------------------------------------------- API Gateway


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _gateway_error(status: int, message: str) -> HttpAnswer:
    body = json.dumps({"message": message}).encode()
    return HttpAnswer(
        status,
        [("Content-Type", "application/json"), ("x-amzn-ErrorType", _ERROR_TYPES[status])],
        body,
    )


_ERROR_TYPES = {
    403: "ForbiddenException",
    413: "RequestEntityTooLargeException",
    502: "InternalServerErrorException",
    504: "IntegrationTimeoutException",
}


@dataclass(frozen=True)
class RouteMatch:
    resource: str
    path_parameters: dict[str, str]


def match_route(routes: Iterable[str], path: str) -> RouteMatch | None:
    """The resource API Gateway picks for a path: segment by segment, a literal one before a
    `{parameter}`. A trailing slash reaches the same resource."""
    segments = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
    best: tuple[tuple[int, ...], RouteMatch] | None = None
    for resource in routes:
        parts = resource.strip("/").split("/") if resource.strip("/") else []
        if len(parts) != len(segments):
            continue
        parameters: dict[str, str] = {}
        rank: list[int] = []
        for part, segment in zip(parts, segments, strict=True):
            if part.startswith("{") and part.endswith("}"):
                if not segment:
                    break
                parameters[part[1:-1]] = segment
                rank.append(0)
            elif part == segment:
                rank.append(1)
            else:
                break
        else:
            key = tuple(rank)
            if best is None or key > best[0]:
                best = (key, RouteMatch(resource, parameters))
    return best[1] if best else None


class LambdaContext:
    """What a Lambda handler's context offers that the app reads."""

    def __init__(self, function_name: str, timeout: float) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = (
            f"arn:aws:lambda:eu-west-3:{ACCOUNT_ID}:function:{function_name}"
        )
        self.memory_limit_in_mb = 128
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class ApiGateway:
    """A REST API whose every route is a Lambda proxy integration of one function."""

    handler: LambdaHandler
    routes: Iterable[str]
    binary_types: list[str]
    stage: str = "api"
    function_name: str = "portail-stagiaire-local"
    timeout: float = INTEGRATION_TIMEOUT_SECONDS
    max_request_bytes: int = MAX_REQUEST_BYTES
    methods: Mapping[str, Iterable[str]] | None = None
    # Lambda runs one event at a time per instance; the Chalice app keeps the current request
    # on itself, so the local stack is one instance.
    _instance: threading.Lock = field(default_factory=threading.Lock)

    def handle(
        self,
        method: str,
        path: str,
        query: Iterable[tuple[str, str]],
        headers: Iterable[tuple[str, str]],
        body: bytes,
        source_ip: str,
    ) -> HttpAnswer:
        """`path` is the one on the execute-api address, stage included."""
        prefix = f"/{self.stage}"
        if path != prefix and not path.startswith(prefix + "/"):
            return _gateway_error(403, "Forbidden")
        resource_path = path[len(prefix) :] or "/"
        match = match_route(self.routes, resource_path)
        if match is None or (
            self.methods is not None and method not in self.methods.get(match.resource, ())
        ):
            return _gateway_error(403, "Missing Authentication Token")
        if len(body) > self.max_request_bytes:
            return _gateway_error(413, "Request Too Long")
        headers = list(headers)
        event = self.event(method, path, resource_path, match, query, headers, body, source_ip)
        result = self._invoke(event)
        if isinstance(result, HttpAnswer):
            return result
        accept = next((v for k, v in headers if k.lower() == "accept"), None)
        return self.http_answer(result, accept)

    def event(
        self,
        method: str,
        stage_path: str,
        resource_path: str,
        match: RouteMatch,
        query: Iterable[tuple[str, str]],
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
    ) -> dict[str, Any]:
        """The Lambda proxy integration's input format (version 1.0)."""
        forwarded_for = next((v for k, v in headers if k.lower() == "x-forwarded-for"), None)
        added = [
            ("X-Forwarded-For", f"{forwarded_for}, {source_ip}" if forwarded_for else source_ip),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Port", "443"),
            ("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"),
        ]
        kept = [
            (k, v)
            for k, v in headers
            if k.lower() not in {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-port"}
        ]
        single_headers, multi_headers = _single_and_multi(kept + added)
        single_query, multi_query = _single_and_multi(list(query))
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        is_binary = bool(body) and matches_binary_type(content_type, self.binary_types)
        if not body:
            event_body: str | None = None
        elif is_binary:
            event_body = base64.b64encode(body).decode("ascii")
        else:
            event_body = body.decode("utf-8", errors="replace")
        host = next((v for k, v in headers if k.lower() == "host"), "")
        now = time.time()
        return {
            "resource": match.resource,
            "path": resource_path,
            "httpMethod": method,
            "headers": single_headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": single_query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": match.path_parameters or None,
            "stageVariables": None,
            "requestContext": {
                "accountId": ACCOUNT_ID,
                "apiId": LOCAL_API_ID,
                "domainName": host,
                "domainPrefix": host.split(".", 1)[0],
                "extendedRequestId": secrets.token_urlsafe(12),
                "httpMethod": method,
                "identity": {
                    "sourceIp": source_ip,
                    "userAgent": single_headers.get(
                        next((k for k in single_headers if k.lower() == "user-agent"), ""), None
                    ),
                },
                "path": stage_path,
                "protocol": "HTTP/1.1",
                "requestId": str(uuid.uuid4()),
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "requestTimeEpoch": int(now * 1000),
                "resourceId": secrets.token_hex(3),
                "resourcePath": match.resource,
                "stage": self.stage,
            },
            "body": event_body,
            "isBase64Encoded": is_binary,
        }

    def _invoke(self, event: dict[str, Any]) -> dict[str, Any] | HttpAnswer:
        outcome: dict[str, Any] = {}
        deadline = time.monotonic() + self.timeout

        def run() -> None:
            if not self._instance.acquire(timeout=max(0.0, deadline - time.monotonic())):
                return
            try:
                context = LambdaContext(self.function_name, self.timeout)
                outcome["result"] = self.handler(event, context)
            except Exception as error:  # the invocation fails: API Gateway answers 502
                outcome["error"] = error
            finally:
                self._instance.release()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(timeout=self.timeout)
        if worker.is_alive() or not outcome:
            return _gateway_error(504, "Endpoint request timed out")
        if "error" in outcome:
            return _gateway_error(502, "Internal server error")
        result = outcome["result"]
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            return _gateway_error(502, "Internal server error")
        if len(json.dumps(result).encode()) > MAX_LAMBDA_RESPONSE_BYTES:
            return _gateway_error(502, "Internal server error")
        return result

    def http_answer(self, result: Mapping[str, Any], accept: str | None) -> HttpAnswer:
        """The Lambda proxy integration's output format, as API Gateway turns it into HTTP."""
        headers: dict[str, list[str]] = {}
        for name, value in (result.get("headers") or {}).items():
            headers[name] = [str(value)]
        # « If the same key-value pair is specified in both, only the values from
        # multiValueHeaders will appear in the merged list. »
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = [str(v) for v in values]
        body = result.get("body") or ""
        if result.get("isBase64Encoded") and matches_binary_type(
            first_accepted_type(accept), self.binary_types
        ):
            data = base64.b64decode(body)
        else:
            # Not decoded: the client gets the base64 text itself (docs/specs/architecture.md, D9).
            data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        flat = [(name, value) for name, values in headers.items() for value in values]
        if not any(name.lower() == "content-type" for name, _ in flat):
            flat.append(("Content-Type", "application/json"))
        flat.append(("x-amzn-RequestId", str(uuid.uuid4())))
        return HttpAnswer(int(result["statusCode"]), flat, data)


def _single_and_multi(
    pairs: list[tuple[str, str]],
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """API Gateway's two views of repeated names: the last value, and every value in order."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


# ---------------------------------------------------------------- CloudFront and the two hosts


@dataclass
class Front:
    """The WSGI application that plays CloudFront (public host) and execute-api (other hosts)."""

    gateway: ApiGateway
    public_host: str
    static_dir: Path = static_files.STATIC_DIR
    origin_header: str = "X-Origin-Verify"
    origin_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        headers = list(environ.get(RAW_HEADERS) or request.headers.items())
        if request.host == self.public_host:
            response = self._distribution(request, headers)
        else:
            response = self._execute_api(request, headers)
        return response(environ, start_response)

    def _distribution(self, request: Request, viewer_headers: list[tuple[str, str]]) -> Response:
        if request.path.startswith(static_files.STATIC_PREFIX):
            return self._assets_bucket(request)
        viewer = request.remote_addr or "127.0.0.1"
        headers = [(k, v) for k, v in viewer_headers if k.lower() != "host"]
        headers += [
            ("Host", f"{LOCAL_API_ID}.execute-api.localhost"),
            (self.origin_header, self.origin_secret),
            ("CloudFront-Viewer-Address", f"{viewer}:{request.environ.get('REMOTE_PORT', 0)}"),
            ("X-Forwarded-For", viewer),
            ("Via", "1.1 local.cloudfront.net (CloudFront)"),
        ]
        path = f"/{self.gateway.stage}{_raw_path(request)}"
        return self._to_api(request, path, headers, CLOUDFRONT_EDGE_IP)

    def _execute_api(self, request: Request, headers: list[tuple[str, str]]) -> Response:
        # The web ACL of infra/template.yaml: without the distribution's secret header, a
        # request is sent to the one public address.
        given = request.headers.get(self.origin_header, "")
        if not secrets.compare_digest(given.encode(), self.origin_secret.encode()):
            return Response(status=301, headers={"Location": f"http://{self.public_host}/"})
        source_ip = request.remote_addr or "127.0.0.1"
        return self._to_api(request, _raw_path(request), headers, source_ip)

    def _to_api(
        self, request: Request, path: str, headers: list[tuple[str, str]], source_ip: str
    ) -> Response:
        answer = self.gateway.handle(
            request.method,
            path,
            list(request.args.items(multi=True)),
            headers,
            request.get_data(cache=False),
            source_ip=source_ip,
        )
        response = Response(answer.body, status=answer.status)
        response.headers = Headers(answer.headers)
        return response

    def _assets_bucket(self, request: Request) -> Response:
        relative = request.path[len(static_files.STATIC_PREFIX) :]
        path = static_files.resolve(tuple(relative.split("/")), self.static_dir)
        if path is None:
            # S3 behind an origin access control, without s3:ListBucket: a missing key is 403.
            body = b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>AccessDenied</Code></Error>"
            return Response(body, status=403, content_type="application/xml")
        data = path.read_bytes()
        content_type = static_files.content_type(path)
        headers = {"Content-Type": content_type, "Cache-Control": static_files.CACHE_FOREVER}
        accepted = request.headers.get("Accept-Encoding", "")
        # CloudFront answers with brotli when the browser takes it; the build wrote that variant
        # beside the file (local/build_assets.py), so it is not compressed at each request here.
        brotli_variant = path.with_name(path.name + ".br")
        if _compressible(content_type, len(data)) and "br" in accepted and brotli_variant.is_file():
            data = brotli_variant.read_bytes()
            headers["Content-Encoding"] = "br"
        elif _compressible(content_type, len(data)) and "gzip" in accepted:
            data = gzip.compress(data)
            headers["Content-Encoding"] = "gzip"
        return Response(data, status=200, headers=headers)


def _raw_path(request: Request) -> str:
    """The path as the client sent it (still percent-encoded): API Gateway decodes only the
    path parameters, once (match_route)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    return raw.split("?", 1)[0] if raw else request.path


def _compressible(content_type: str, size: int) -> bool:
    base = content_type.split(";", 1)[0]
    return size >= MIN_COMPRESSED_BYTES and (
        base.startswith(COMPRESSIBLE) or base in COMPRESSIBLE_EXTRA
    )


def origin_header_name(template: Mapping[str, Any]) -> str:
    """The header the distribution adds for its API origin, read from infra/template.yaml."""
    distribution = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    [api_origin] = [o for o in distribution["Origins"] if o["Id"] == "api"]
    [header] = api_origin["OriginCustomHeaders"]
    return str(header["HeaderName"])


def portal_front(chalice_app: Any, public_base_url: str) -> Front:
    """The front for the portal: its routes, its binary media types, the template's header."""
    from local.resources import load_template

    routes = chalice_app.routes
    gateway = ApiGateway(
        handler=chalice_app,
        routes=list(routes),
        methods={path: list(methods) for path, methods in routes.items()},
        binary_types=binary_media_types(chalice_app),
        stage=api_stage_name(),
    )
    return Front(
        gateway,
        public_host=urlsplit(public_base_url).netloc,
        origin_header=origin_header_name(load_template()),
    )


class _RawHeadersHandler(WSGIRequestHandler):
    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ[RAW_HEADERS] = list(self.headers.items())
        return environ

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """The stack prints what matters (mails, files); not one line per request."""


def serve(front: Front, host: str, port: int) -> BaseWSGIServer:
    """A threaded HTTP server for the front; `serve_forever()` it, `shutdown()` it."""
    return make_server(host, port, front, threaded=True, request_handler=_RawHeadersHandler)
