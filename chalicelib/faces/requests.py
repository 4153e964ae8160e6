"""What both faces read of an HTTP request beyond its body."""

from __future__ import annotations

from chalice.app import Request


def client_ip(request: Request) -> str | None:
    """The browser's address. Behind CloudFront, API Gateway's sourceIp is an edge server's, so
    the viewer's comes from CloudFront-Viewer-Address ("ip:port"), which CloudFront sets itself;
    the web ACL lets only the distribution reach the API (infra/template.yaml)."""
    viewer = request.headers.get("cloudfront-viewer-address")
    if viewer and ":" in viewer:
        return viewer.rpartition(":")[0].strip("[]")
    identity = (request.context or {}).get("identity") or {}
    return identity.get("sourceIp")
