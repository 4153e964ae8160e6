"""S3 POST policies, enforced in the local emulator as S3 enforces them: moto 5 stores whatever a
browser-based POST sends (another key, any size, after the expiry), which would let the portal's
presigned uploads (services/funders/uploads.py) pass tests that S3 would fail.

AWS, « POST Policy » (AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html) and « Creating a
POST policy / browser-based uploads »:
- the policy's `expiration` (ISO 8601, GMT) ends it: later requests are refused (403);
- every condition must hold: exact match (`{"field": value}` or `["eq", "$field", value]`),
  `["starts-with", "$field", prefix]` (for `$key`, checked after `${filename}` is replaced by
  the name of the file sent), `["content-length-range", min, max]` on the file's size (400
  EntityTooLarge / EntityTooSmall);
- each form field but `x-amz-signature`, `file`, `policy` and fields starting with `x-ignore-`
  must appear in the conditions;
- the signature is HMAC-SHA256 of the base64 policy with the SigV4 signing key of the
  credential's date, region and service.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.formparser import parse_form_data

FILENAME_VARIABLE = "${filename}"
UNCHECKED_FIELDS = {"x-amz-signature", "file", "policy"}


@dataclass(frozen=True)
class PolicyRefusal:
    status: int
    code: str
    message: str


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check_post(
    fields: dict[str, str],
    file_name: str,
    file_size: int,
    bucket: str,
    now: datetime,
    secret: str,
) -> PolicyRefusal | str:
    """The object key the POST may write, or why S3 would refuse it."""
    lowered = {name.lower(): value for name, value in fields.items()}
    policy_b64 = lowered.get("policy")
    if not policy_b64:
        return PolicyRefusal(403, "AccessDenied", "Bucket POST must contain a policy.")
    credential = lowered.get("x-amz-credential", "")
    parts = credential.split("/")
    if len(parts) != 5:
        return PolicyRefusal(400, "InvalidArgument", "Invalid x-amz-credential.")
    _, date, region, service, _ = parts
    expected = hmac.new(
        _signing_key(secret, date, region, service), policy_b64.encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, lowered.get("x-amz-signature", "")):
        return PolicyRefusal(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    policy = json.loads(base64.b64decode(policy_b64))
    expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    if now >= expiration:
        return PolicyRefusal(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    key = lowered.get("key", "").replace(FILENAME_VARIABLE, file_name)
    values = {**lowered, "key": key, "bucket": bucket}
    named: set[str] = {"bucket"}
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            [(field, wanted)] = condition.items()
            operator, field = "eq", field.lower()
        elif condition[0] == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if file_size > high:
                return PolicyRefusal(
                    400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
                )
            if file_size < low:
                return PolicyRefusal(
                    400, "EntityTooSmall", "Your proposed upload is smaller than the minimum size"
                )
            continue
        else:
            operator, field, wanted = condition[0], condition[1].lstrip("$").lower(), condition[2]
        named.add(field)
        actual = values.get(field, "")
        holds = actual == wanted if operator == "eq" else actual.startswith(wanted)
        if not holds:
            return PolicyRefusal(
                403,
                "AccessDenied",
                f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}",
            )
    for field in lowered:
        if (
            field not in UNCHECKED_FIELDS
            and not field.startswith("x-ignore-")
            and field not in named
        ):
            return PolicyRefusal(
                403,
                "AccessDenied",
                "Invalid according to Policy: Extra input fields: " + field,
            )
    return key


def _error(refusal: PolicyRefusal, start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>'
        f"{refusal.code}</Code><Message>{escape(refusal.message)}</Message></Error>"
    ).encode()
    start_response(
        f"{refusal.status} {'Forbidden' if refusal.status == 403 else 'Bad Request'}",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _multipart(fields: dict[str, str], file_name: str, content: bytes) -> tuple[bytes, str]:
    boundary = "----portail-local-post-policy"
    chunks = []
    for name, value in fields.items():
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + f"{value}\r\n".encode()
        )
    chunks.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def enforce_post_policies(
    app: Callable[..., Iterable[bytes]], secret: str, clock: Callable[[], datetime] | None = None
) -> Callable[..., Iterable[bytes]]:
    """WSGI middleware before moto: a browser-based POST to a bucket is checked, its `${filename}`
    replaced, then handed on; anything else passes untouched."""

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        content_type = environ.get("CONTENT_TYPE", "")
        path = environ.get("PATH_INFO", "")
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or not content_type.startswith("multipart/form-data")
            or path.strip("/").count("/") != 0
            or environ.get("QUERY_STRING")
        ):
            return app(environ, start_response)
        bucket = path.strip("/") or environ.get("HTTP_HOST", "").split(".")[0]
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        probe = dict(environ, **{"wsgi.input": BytesIO(raw)})
        _, form, files = parse_form_data(probe)
        upload = files.get("file")
        if upload is None:
            return app(dict(environ, **{"wsgi.input": BytesIO(raw)}), start_response)
        content = upload.read()
        fields = {name: form[name] for name in form}
        now = clock() if clock else datetime.now(UTC)
        outcome = check_post(fields, upload.filename or "", len(content), bucket, now, secret)
        if isinstance(outcome, PolicyRefusal):
            return _error(outcome, start_response)
        fields = {
            name: (outcome if name.lower() == "key" else value) for name, value in fields.items()
        }
        body, new_type = _multipart(fields, upload.filename or "", content)
        forwarded = dict(
            environ,
            **{
                "wsgi.input": BytesIO(body),
                "CONTENT_LENGTH": str(len(body)),
                "CONTENT_TYPE": new_type,
            },
        )
        return app(forwarded, start_response)

    return middleware
