"""The local front (local/front.py) does what CloudFront and API Gateway do, so that a portal that
would break in AWS breaks here: the first-Accept rule for binary bodies, the proxy event, the stage
prefix, the limits, the origin header, the static files. The portal is then shown to need none of
API Gateway's binary handling (D9)."""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import brotli
import pytest
from chalice import Chalice, Response
from werkzeug.test import Client

from chalicelib.web.static_files import CACHE_FOREVER, STATIC_DIR
from local.front import (
    CLOUDFRONT_EDGE_IP,
    INTEGRATION_TIMEOUT_SECONDS,
    MAX_LAMBDA_RESPONSE_BYTES,
    MAX_REQUEST_BYTES,
    ApiGateway,
    Front,
    api_stage_name,
    binary_media_types,
    first_accepted_type,
    match_route,
    origin_header_name,
    portal_front,
    serve,
)
from local.resources import load_template

PUBLIC = "localhost:8000"
EXECUTE_API = "127.0.0.1:8000"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
# What Chromium sends for a page, an <img> and a font (or a download link: the page's).
BROWSER_PAGE = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,"
    "*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
BROWSER_IMAGE = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
BROWSER_FONT = "*/*"


def png_app() -> Chalice:
    """A Chalice app that answers a PNG, as the portal's captcha and static routes once did."""
    app = Chalice(app_name="binary")

    @app.route("/image")
    def image() -> Response:
        return Response(body=PNG, headers={"Content-Type": "image/png"})

    return app


def front_for(app: Any, **gateway: Any) -> Client:
    routes = gateway.pop("routes", getattr(app, "routes", {"/": {}}))
    api = ApiGateway(
        handler=app,
        routes=list(routes),
        binary_types=gateway.pop("binary_types", None) or binary_media_types(png_app()),
        **gateway,
    )
    return Client(Front(api, public_host=PUBLIC, origin_secret="s3cret"))


def get(client: Client, path: str, host: str = PUBLIC, **headers: str) -> Any:
    return client.get(path, headers={"Host": host, **headers})


class Recorder:
    """A Lambda handler that keeps the events it gets and answers a fixed result."""

    def __init__(self, result: dict[str, Any] | None = None, delay: float = 0.0) -> None:
        self.events: list[dict[str, Any]] = []
        self.result = result or {"statusCode": 200, "headers": {}, "body": "ok"}
        self.delay = delay

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        time.sleep(self.delay)
        return self.result


# ---------------------------------------------------------------- the first-Accept rule


@pytest.mark.parametrize("accept", [BROWSER_PAGE, BROWSER_FONT, "text/html,image/png", None])
def test_a_binary_answer_arrives_as_base64_text_unless_the_first_accepted_type_is_binary(accept):
    """Issue #12, point 2: Chalice encodes the PNG (its any-type check passes), and API Gateway
    decodes it only for the first Accept type: a page link, a font request or an Accept that
    lists image/png second get base64 text, which a browser cannot show."""
    client = front_for(png_app())
    headers = {"Accept": accept} if accept else {}
    response = get(client, "/image", **headers)
    if accept is None:  # Chalice itself refuses a binary answer to a request without Accept
        assert response.status_code == 400
        return
    assert response.status_code == 200
    assert response.data != PNG
    assert base64.b64decode(response.data) == PNG


@pytest.mark.parametrize("accept", ["image/png", "image/png,*/*;q=0.8", "image/png;q=0.1,*/*"])
def test_a_binary_answer_arrives_decoded_when_the_first_accepted_type_is_binary(accept):
    response = get(front_for(png_app()), "/image", Accept=accept)
    assert response.status_code == 200
    assert response.data == PNG


def test_only_a_wildcard_binary_type_would_serve_a_browser_image_but_then_breaks_pages():
    """Why the portal sends nothing binary: `*/*` as a binary type decodes the image for any
    Accept, and makes Chalice fail on every text answer (it expects bytes): a 502."""
    app = png_app()
    app.api.binary_types = ["*/*"]
    client = front_for(app, binary_types=["*/*"])
    assert get(client, "/image", Accept=BROWSER_IMAGE).data == PNG

    @app.route("/page")
    def page() -> Response:
        return Response(body="<h1>Bonjour</h1>", headers={"Content-Type": "text/html"})

    client = front_for(app, binary_types=["*/*"])
    assert get(client, "/page", Accept=BROWSER_PAGE).status_code == 502


def test_first_accepted_type_ignores_quality_values():
    assert first_accepted_type("image/png;q=0.1, text/html") == "image/png"
    assert first_accepted_type(BROWSER_PAGE) == "text/html"
    assert first_accepted_type(None) == ""


def test_the_portal_api_has_the_binary_types_chalice_package_writes_and_no_route_for_files():
    from chalice.deploy.swagger import CFNSwaggerGenerator

    import app as portal

    definition = CFNSwaggerGenerator().generate_swagger(portal.app)
    assert binary_media_types(portal.app) == definition["x-amazon-apigateway-binary-media-types"]
    # Chalice's defaults, nothing added: fonts and icons no longer go through the API.
    assert binary_media_types(portal.app) == portal.app.api.default_binary_types
    assert not [p for p in portal.app.routes if p.startswith(("/static", "/captcha"))]


# ---------------------------------------------------------------- the proxy event


@pytest.fixture
def live_front() -> Iterator[tuple[Recorder, int]]:
    """The front on a real HTTP server: WSGI alone would join a repeated header."""
    recorder = Recorder()
    api = ApiGateway(
        handler=recorder,
        routes=["/{funder_code}/inscription", "/organisme"],
        binary_types=binary_media_types(png_app()),
    )
    server = serve(Front(api, public_host=PUBLIC, origin_secret="s3cret"), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield recorder, server.server_port
    server.shutdown()
    thread.join(timeout=5)


def test_the_proxy_event_has_the_rest_api_format(live_front):
    recorder, port = live_front
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("POST", "/region-idf/inscription?a=1&a=2&b=%C3%A9", skip_host=True)
    body = b"nom=Petit&pr%C3%A9nom=Lucas"
    for name, value in [
        ("Host", PUBLIC),
        ("Accept", BROWSER_PAGE),
        ("X-Test", "one"),
        ("X-Test", "two"),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Content-Length", str(len(body))),
    ]:
        connection.putheader(name, value)
    connection.endheaders(body)
    assert connection.getresponse().status == 200
    connection.close()
    [event] = recorder.events
    assert event["resource"] == "/{funder_code}/inscription"
    assert event["path"] == "/region-idf/inscription"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"funder_code": "region-idf"}
    assert event["queryStringParameters"] == {"a": "2", "b": "é"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["é"]}
    assert event["headers"]["X-Test"] == "two"
    assert event["multiValueHeaders"]["X-Test"] == ["one", "two"]
    assert event["body"] == "nom=Petit&pr%C3%A9nom=Lucas"
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "api"
    assert context["resourcePath"] == "/{funder_code}/inscription"
    assert context["path"] == "/api/region-idf/inscription"
    assert context["httpMethod"] == "POST"
    assert re.fullmatch(r"[0-9a-f-]{36}", context["requestId"])
    # Behind CloudFront, API Gateway sees an edge server; the viewer is in CloudFront's header.
    assert context["identity"]["sourceIp"] == CLOUDFRONT_EDGE_IP
    assert event["headers"]["CloudFront-Viewer-Address"].startswith("127.0.0.1:")
    assert event["headers"]["X-Origin-Verify"] == "s3cret"
    assert event["stageVariables"] is None


def test_a_binary_request_body_is_base64_encoded_and_no_query_gives_none():
    recorder = Recorder()
    client = front_for(recorder, routes={"/upload": {}})
    client.post("/upload", headers={"Host": PUBLIC, "Content-Type": "image/png"}, data=PNG)
    [event] = recorder.events
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == PNG
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None


def test_a_literal_segment_wins_over_a_parameter_and_a_trailing_slash_is_the_same_resource():
    routes = ["/{funder_code}", "/organisme", "/{funder_code}/connexion", "/organisme/messages"]
    assert match_route(routes, "/organisme").resource == "/organisme"
    assert match_route(routes, "/region-idf/").resource == "/{funder_code}"
    assert match_route(routes, "/region-idf/").path_parameters == {"funder_code": "region-idf"}
    assert match_route(routes, "/organisme/messages").resource == "/organisme/messages"
    assert match_route(routes, "/organisme/connexion").resource == "/{funder_code}/connexion"
    assert match_route(routes, "/a/b/c") is None


def test_an_unknown_resource_or_method_is_api_gateways_403():
    recorder = Recorder()
    client = front_for(recorder, routes={"/cgu": {}}, methods={"/cgu": ["GET"]})
    for response in (
        get(client, "/inconnu/tout/a/fait"),
        client.delete("/cgu", headers={"Host": PUBLIC}),
    ):
        assert response.status_code == 403
        assert response.json == {"message": "Missing Authentication Token"}
    assert recorder.events == []


def test_several_cookies_come_back_as_several_headers():
    recorder = Recorder(
        {
            "statusCode": 303,
            "headers": {"Location": "/formations"},
            "multiValueHeaders": {"Set-Cookie": ["a=1; Secure", "b=2; Secure"]},
            "body": "",
        }
    )
    response = get(front_for(recorder, routes={"/": {}}), "/")
    assert response.status_code == 303
    assert response.headers.getlist("Set-Cookie") == ["a=1; Secure", "b=2; Secure"]
    assert response.headers["Content-Type"] == "application/json"  # API Gateway's default


# ---------------------------------------------------------------- stage prefix and origin


def test_the_execute_api_address_has_the_stage_prefix_and_only_the_distribution_gets_through():
    recorder = Recorder()
    client = front_for(recorder, routes={"/cgu": {}})
    assert get(client, "/cgu").status_code == 200  # the public address: no prefix
    assert recorder.events[-1]["requestContext"]["path"] == "/api/cgu"

    direct = get(client, "/api/cgu", host=EXECUTE_API)
    assert direct.status_code == 301
    assert direct.headers["Location"] == f"http://{PUBLIC}/"

    with_header = {"X-Origin-Verify": "s3cret"}
    assert get(client, "/api/cgu", host=EXECUTE_API, **with_header).status_code == 200
    assert recorder.events[-1]["path"] == "/cgu"
    assert recorder.events[-1]["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    forbidden = get(client, "/cgu", host=EXECUTE_API, **with_header)
    assert (forbidden.status_code, forbidden.json) == (403, {"message": "Forbidden"})
    assert len(recorder.events) == 2


def test_the_front_uses_the_template_header_and_chalice_stage():
    import app as portal

    template = load_template()
    stage_arn = template["Resources"]["OriginWebAclAssociation"]["Properties"]["ResourceArn"]
    assert stage_arn["Fn::Sub"].endswith(f"/stages/{api_stage_name()}")
    distribution = template["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    [api_origin] = [o for o in distribution["Origins"] if o["Id"] == "api"]
    assert api_origin["OriginPath"] == f"/{api_stage_name()}"
    header = origin_header_name(template)
    rule = template["Resources"]["OriginWebAcl"]["Properties"]["Rules"][0]["Statement"]
    assert rule["ByteMatchStatement"]["FieldToMatch"]["SingleHeader"]["Name"] == header.lower()
    front = portal_front(portal.app, "http://localhost:8000")
    assert front.origin_header == header
    assert front.public_host == "localhost:8000"
    assert front.gateway.stage == "api"


# ---------------------------------------------------------------- limits and failures


def test_the_documented_limits():
    assert MAX_REQUEST_BYTES == 10 * 1024 * 1024
    assert INTEGRATION_TIMEOUT_SECONDS == 29
    assert MAX_LAMBDA_RESPONSE_BYTES == 6 * 1024 * 1024


def test_a_request_over_the_payload_limit_is_refused_before_the_function():
    recorder = Recorder()
    client = front_for(recorder, routes={"/upload": {}}, max_request_bytes=1000)
    response = client.post("/upload", headers={"Host": PUBLIC}, data=b"x" * 1001)
    assert response.status_code == 413
    assert recorder.events == []
    assert client.post("/upload", headers={"Host": PUBLIC}, data=b"x" * 1000).status_code == 200


def test_a_function_slower_than_the_integration_timeout_gets_a_504():
    client = front_for(Recorder(delay=0.5), routes={"/lent": {}}, timeout=0.1)
    response = get(client, "/lent")
    assert (response.status_code, response.json) == (504, {"message": "Endpoint request timed out"})


@pytest.mark.parametrize(
    "result",
    [
        RuntimeError("boom"),
        {"body": "no status"},
        {"statusCode": 200, "body": "x" * MAX_LAMBDA_RESPONSE_BYTES},
    ],
    ids=["raises", "malformed", "over-6-MB"],
)
def test_a_failed_invocation_is_a_502(result):
    def handler(event: dict[str, Any], context: Any) -> Any:
        if isinstance(result, Exception):
            raise result
        return result

    response = get(front_for(handler, routes={"/": {}}), "/")
    assert (response.status_code, response.json) == (502, {"message": "Internal server error"})


# ---------------------------------------------------------------- CloudFront's static files


def test_static_files_come_from_the_assets_with_a_long_cache_whatever_the_accept_header():
    client = front_for(Recorder(), routes={"/": {}})
    font_path = STATIC_DIR / "dsfr" / "fonts" / "Marianne-Regular.woff2"
    font = get(client, "/static/dsfr/fonts/Marianne-Regular.woff2?v=123", Accept=BROWSER_FONT)
    assert font.status_code == 200
    assert font.data == font_path.read_bytes()
    assert font.headers["Content-Type"] == "font/woff2"
    assert font.headers["Cache-Control"] == CACHE_FOREVER
    original = (STATIC_DIR / "dsfr" / "dsfr.min.css").read_bytes()
    css = get(client, "/static/dsfr/dsfr.min.css", **{"Accept-Encoding": "gzip"})
    assert css.headers["Content-Encoding"] == "gzip"
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"
    assert gzip.decompress(css.data) == original
    # Brotli when the browser takes it (Chromium sends "gzip, deflate, br, zstd"): the build's
    # pre-compressed variant, smaller than gzip.
    css = get(client, "/static/dsfr/dsfr.min.css", **{"Accept-Encoding": "gzip, deflate, br"})
    assert css.headers["Content-Encoding"] == "br"
    assert brotli.decompress(css.data) == original
    assert len(css.data) < len(gzip.compress(original))


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/..%2F..%2Fapp.py",
        "/static/%2e%2e/%2e%2e/app.py",
        "/static/dsfr/../../pages.py",
        "/static/dsfr/.built",
        "/static/absent.css",
        "/static/dsfr/fonts",
        "/static/dsfr/dsfr.min.css.map",
    ],
)
def test_a_path_outside_the_published_files_is_the_buckets_403(path):
    recorder = Recorder()
    response = get(front_for(recorder, routes={"/": {}}), path)
    assert response.status_code == 403
    assert b"AccessDenied" in response.data
    assert recorder.events == []


# ---------------------------------------------------------------- the portal through the front


def test_the_signup_page_works_through_the_front_with_the_captcha_image_inline(portal):
    import app as portal_app

    client = Client(portal_front(portal_app.app, "http://localhost:8000"))
    page = client.get("/region-idf/inscription", headers={"Host": PUBLIC, "Accept": BROWSER_PAGE})
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.get_data(as_text=True)
    image = re.search(r'<img class="captcha-image" src="data:image/png;base64,([^"]+)"', html)
    assert base64.b64decode(image.group(1)).startswith(b"\x89PNG")
    # The sound is a link to a page that redirects to S3: no binary through the API either.
    audio = re.search(r'href="(/code-de-securite/[^"]+)"', html)
    sound = client.get(audio.group(1), headers={"Host": PUBLIC, "Accept": BROWSER_PAGE})
    assert sound.status_code == 303
    assert "X-Amz-Expires=300" in sound.headers["Location"]
    policy = page.headers["Content-Security-Policy"]
    assert "img-src 'self' data:" in policy
    assert "/captcha/" not in html


def test_the_portal_answers_only_html_or_json_through_the_front(demo_data):
    """Every GET page of the demo, signed out, with a browser's page Accept: no base64 body."""
    import app as portal_app

    client = Client(portal_front(portal_app.app, "http://localhost:8000"))
    for path in ("/", "/region-idf/", "/region-idf/inscription", "/cgu", "/api/v1/openapi.json"):
        response = client.get(path, headers={"Host": PUBLIC, "Accept": BROWSER_PAGE})
        content_type = response.headers["Content-Type"]
        assert content_type.startswith(("text/html", "application/json")), path
        if content_type.startswith("application/json"):
            json.loads(response.data)


@pytest.mark.parametrize(
    ("viewer_address", "expected"),
    [("203.0.113.7:51234", "203.0.113.7"), ("2001:db8::7:51234", "2001:db8::7"), (None, None)],
)
def test_rate_limits_see_the_viewer_behind_cloudfront_not_the_edge(viewer_address, expected):
    """API Gateway's sourceIp is CloudFront's edge: per-address limits would lump viewers."""
    from chalice.app import Request

    from chalicelib.faces.requests import client_ip

    headers = {"CloudFront-Viewer-Address": viewer_address} if viewer_address else {}
    event = {
        "multiValueQueryStringParameters": None,
        "headers": headers,
        "pathParameters": None,
        "requestContext": {
            "httpMethod": "GET",
            "resourcePath": "/",
            "identity": {"sourceIp": CLOUDFRONT_EDGE_IP},
        },
        "body": None,
        "stageVariables": None,
    }
    assert client_ip(Request(event)) == (expected or CLOUDFRONT_EDGE_IP)
