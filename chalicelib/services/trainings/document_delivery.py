"""PDFs made on first request, kept, and handed out by short-lived links
(docs/specs/architecture.md, D5)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Protocol

from chalicelib.services.trainings.documents import DocumentContent

LINK_SECONDS = 300  # docs/specs/security.md: presigned links expire within 5 minutes


class DocumentFiles(Protocol):
    def exists(self, key: str) -> bool: ...

    def put_pdf(self, key: str, data: bytes) -> None: ...

    def download_url(self, key: str, filename: str, expires_in: int) -> str: ...


def owner_prefix(account_id: str) -> str:
    """All of an account's PDFs, so that closing it or withdrawing a dossier can delete them."""
    return f"pdf/{hashlib.sha256(account_id.encode()).hexdigest()[:32]}/"


def document_key(account_id: str, content: DocumentContent) -> str:
    """Named after what the document says: when the data changes, a new PDF is made; when it
    does not, the kept one is served. A PDF that the bucket's lifecycle rule expired (or that a
    deletion took) is simply made again: `link` checks that it exists."""
    digest = hashlib.sha256(repr(content).encode()).hexdigest()
    return f"{owner_prefix(account_id)}{digest}.pdf"


class DocumentDelivery:
    def __init__(
        self,
        files: DocumentFiles,
        render: Callable[[DocumentContent], bytes],
        on_served: Callable[[], None] = lambda: None,
    ) -> None:
        self._files = files
        self._render = render
        self._on_served = on_served

    def link(self, account_id: str, content: DocumentContent) -> str:
        """Call only after the ownership check: the link is the key to the file."""
        key = document_key(account_id, content)
        if not self._files.exists(key):
            self._files.put_pdf(key, self._render(content))
        self._on_served()
        return self._files.download_url(key, content.filename, LINK_SECONDS)
