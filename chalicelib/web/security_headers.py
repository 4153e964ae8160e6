"""Headers of docs/specs/security.md on every HTTP answer, set in one middleware."""

from __future__ import annotations

from collections.abc import Callable

from chalice.app import Request, Response

# DSFR's stylesheet draws a few icons with data: SVG images, hence img-src data:.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def security_headers(
    hsts: bool, form_targets: tuple[str, ...] = ()
) -> Callable[[Request, Callable[[Request], Response]], Response]:
    """`form_targets`: other origins a form leads to through a redirect, which browsers check
    against form-action (the FranceConnect button and the logout of a FranceConnect session)."""
    # form-action is the policy's last directive: the origins extend it.
    policy = " ".join((CONTENT_SECURITY_POLICY, *form_targets))

    def middleware(request: Request, get_response: Callable[[Request], Response]) -> Response:
        response = get_response(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers["X-Frame-Options"] = "DENY"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if hsts:
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        headers.setdefault("Cache-Control", "no-store")
        return response

    return middleware
