"""Sending a funder file from the browser or from the funder's system: a presigned POST straight
to S3 under `incoming/<funder_code>/`, so the S3 → SQS → ingestion path stays the only way in.

S3 enforces the POST policy (AWS « POST Policy »: every condition must hold, the policy must
not be expired, every form field but `file`, `policy`, `x-amz-signature` and `x-ignore-*` must be
named by a condition): the key must start with the funder's prefix, the size must be within
`content-length-range`, the type must be `text/csv`, and the sender's metadata is pinned (exact
match), so the browser cannot claim another sender nor another funder. The local emulator
enforces the same rules (local/post_policy.py), which moto does not.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from chalicelib.services.errors import Invalid
from chalicelib.services.funders.files import CLIENT_IP_METADATA, SENDER_METADATA

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
UPLOAD_EXPIRY = timedelta(minutes=10)
CONTENT_TYPE = "text/csv"
FILE_NAME_PATTERN = re.compile(r"^(dossiers|paiements)_[A-Za-z0-9._-]{1,120}\.csv$")
INVALID_NAME = (
    "Le nom du fichier doit être de la forme dossiers_….csv ou paiements_….csv (lettres sans "
    "accent, chiffres, point, tiret et tiret bas)."
)
# Filled in by S3 with the name of the file the browser sends (the no-JavaScript form).
BROWSER_FILE_NAME = "${filename}"


@dataclass(frozen=True)
class PresignedUpload:
    url: str
    fields: dict[str, str]
    expires_at: datetime
    key: str
    max_bytes: int


class UploadSigner(Protocol):
    def presigned_post(
        self,
        key: str,
        key_prefix: str,
        max_bytes: int,
        content_type: str,
        expires_in: int,
        exact_fields: dict[str, str],
    ) -> tuple[str, dict[str, str]]:
        """(url, form fields) of a POST policy signed for these conditions."""
        ...


def incoming_prefix(funder_code: str) -> str:
    return f"incoming/{funder_code}/"


def ascii_metadata(value: str) -> str:
    """S3 user metadata travels in HTTP headers: printable ASCII only."""
    return "".join(char if 32 <= ord(char) < 127 else "?" for char in value)[:200]


class FunderUploads:
    def __init__(
        self,
        signer: UploadSigner,
        clock: object,
        new_upload_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._signer = signer
        self._clock = clock
        self._new_upload_id = new_upload_id

    def prepare(
        self,
        funder_code: str,
        file_name: str | None,
        sender: str,
        client_ip: str | None,
        redirect_url: str | None = None,
    ) -> PresignedUpload:
        """`file_name` None: the key takes the name the browser sends (no-JavaScript form); the
        ingestion then rejects an unexpected name in the file's report, like any other drop.

        Each upload gets a folder of its own (`incoming/<funder>/<upload id>/<name>`): two
        members sending `paiements_2026-11.csv` at the same instant write two objects, which
        become two records and two reports, never one report over the other's."""
        if file_name is not None and not FILE_NAME_PATTERN.fullmatch(file_name):
            raise Invalid({"file_name": INVALID_NAME}, code="invalid_request")
        # The policy's prefix is the upload's own folder: the form cannot be pointed at another
        # upload's key, nor outside the funder's prefix.
        prefix = f"{incoming_prefix(funder_code)}{self._new_upload_id()}/"
        key = prefix + (file_name or BROWSER_FILE_NAME)
        exact = {
            f"x-amz-meta-{SENDER_METADATA}": ascii_metadata(sender),
            f"x-amz-meta-{CLIENT_IP_METADATA}": ascii_metadata(client_ip or ""),
        }
        if redirect_url:
            exact["success_action_redirect"] = redirect_url
        else:
            exact["success_action_status"] = "201"
        url, fields = self._signer.presigned_post(
            key,
            prefix,
            MAX_UPLOAD_BYTES,
            CONTENT_TYPE,
            int(UPLOAD_EXPIRY.total_seconds()),
            exact,
        )
        now: datetime = self._clock()  # type: ignore[operator]
        return PresignedUpload(url, fields, now + UPLOAD_EXPIRY, key, MAX_UPLOAD_BYTES)
