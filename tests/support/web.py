"""A small browser for handler tests: the real Chalice routing, with cookies and hidden fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import urlencode

from chalice.test import Client

HIDDEN_FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@dataclass
class Page:
    status: int
    headers: dict[str, Any]
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def hidden(self, name: str) -> str:
        for found, value in HIDDEN_FIELD.findall(self.body):
            if found == name:
                return unescape(value)
        raise AssertionError(f"no hidden field {name!r}")

    def field_error(self, name: str) -> str | None:
        """The message shown under the field `name` (the DSFR's `<name>-erreur`), if any."""
        match = re.search(
            rf'<p id="{re.escape(name)}-erreur" class="fr-error-text">(.*?)</p>', self.body
        )
        return unescape(match.group(1)).strip() if match else None

    def label_of(self, name: str) -> str | None:
        """The label's own text of the field `name`, hint left out."""
        match = re.search(rf'<label class="fr-label" for="{re.escape(name)}">([^<]*)', self.body)
        return " ".join(unescape(match.group(1)).split()) if match else None

    @property
    def text(self) -> str:
        """The visible text, tags removed: what assertions about wording read."""
        without_tags = re.sub(r"<[^>]+>", " ", self.body)
        return " ".join(unescape(without_tags).split())


@dataclass
class WebClient:
    client: Client
    cookies: dict[str, str] = field(default_factory=dict)
    source_ip: str = "192.0.2.10"

    def _remember(self, headers: dict[str, Any]) -> None:
        values = headers.get("Set-Cookie") or headers.get("set-cookie") or []
        for value in [values] if isinstance(values, str) else values:
            name, _, rest = value.partition("=")
            cookie_value = rest.split(";", 1)[0]
            if "Max-Age=0" in value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = cookie_value

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def get(self, path: str) -> Page:
        response = self.client.http.get(path, headers=self._headers())
        self._remember(response.headers)
        return Page(response.status_code, dict(response.headers), response.body.decode())

    def post(self, path: str, data: dict[str, str]) -> Page:
        response = self.client.http.post(
            path,
            headers=self._headers({"Content-Type": "application/x-www-form-urlencoded"}),
            body=urlencode(data),
        )
        self._remember(response.headers)
        return Page(response.status_code, dict(response.headers), response.body.decode())

    def follow(self, page: Page) -> Page:
        assert page.status in (301, 302, 303), page.status
        return self.get(page.location)
