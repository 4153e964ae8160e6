"""The exchange bucket: funder files in `incoming/<funder>/`, reports in `reports/<funder>/`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from tempfile import SpooledTemporaryFile
from typing import Any

from botocore.exceptions import ClientError

CHUNK_BYTES = 256 * 1024
# What HeadObject's error code is for a key with no current version (`current_version`).
MISSING_OBJECT_CODES = frozenset(
    {"404", "NoSuchKey", "NotFound", "403", "AccessDenied", "Forbidden"}
)


@dataclass(frozen=True)
class StoredVersion:
    """One version of an object, as HeadObject tells it."""

    version: str  # what tells one PUT of the key from another (see `stored_version`)
    last_modified: datetime
    metadata: dict[str, str]


class ExchangeBucket:
    def __init__(self, s3_client: Any, bucket: str) -> None:
        self._s3 = s3_client
        self.name = bucket

    def opener(
        self, key: str, version_id: str | None = None, etag: str | None = None
    ) -> Iterator[bytes]:
        """Streams one version of the object: the same bytes however many times it is read."""
        pinned: dict[str, str] = {}
        if version_id:
            pinned["VersionId"] = version_id
        elif etag:
            pinned["IfMatch"] = etag if etag.startswith('"') else f'"{etag}"'
        body = self._s3.get_object(Bucket=self.name, Key=key, **pinned)["Body"]
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        finally:
            body.close()

    def put_report(self, key: str, chunks: Iterable[bytes]) -> None:
        with SpooledTemporaryFile(max_size=4 * 1024 * 1024) as spool:
            for chunk in chunks:
                spool.write(chunk)
            spool.seek(0)
            self._s3.put_object(
                Bucket=self.name,
                Key=key,
                Body=spool,
                ContentType="text/csv; charset=utf-8",
            )

    def put(self, key: str, body: bytes) -> None:
        self._s3.put_object(Bucket=self.name, Key=key, Body=body, ContentType="text/csv")

    def read(self, key: str) -> bytes:
        return self._s3.get_object(Bucket=self.name, Key=key)["Body"].read()

    def head(self, key: str, version_id: str | None = None) -> dict[str, Any]:
        pinned = {"VersionId": version_id} if version_id else {}
        return self._s3.head_object(Bucket=self.name, Key=key, **pinned)

    def stored_version(self, key: str, version_id: str | None = None) -> StoredVersion:
        """That version of the object (the latest without `version_id`). Its `version` is its
        version ID: the exchange bucket is versioned, and S3 gives every PUT or POST there a
        unique one (https://docs.aws.amazon.com/AmazonS3/latest/userguide/AddingObjectstoVersioningEnabledBuckets.html);
        in a bucket without versions, its ETag."""
        head = self.head(key, version_id)
        return StoredVersion(
            version=head.get("VersionId") or head.get("ETag", "").strip('"'),
            last_modified=head["LastModified"],
            metadata=head.get("Metadata") or {},
        )

    def current_version(self, key: str) -> str | None:
        """The version now at `key`, named as `stored_version` names it; None once the key is
        deleted. HeadObject answers a missing key (a delete marker included) with 404, or with
        403 to a role without s3:ListBucket, as the ingestion role is
        (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html)."""
        try:
            return self.stored_version(key).version
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING_OBJECT_CODES:
                return None
            raise

    def report_text(self, key: str) -> str | None:
        """A report (UTF-8), or None if it is not written yet."""
        try:
            body = self._s3.get_object(Bucket=self.name, Key=key)["Body"]
        except self._s3.exceptions.NoSuchKey:
            return None
        try:
            return body.read().decode("utf-8")
        finally:
            body.close()

    def presigned_post(
        self,
        key: str,
        key_prefix: str,
        max_bytes: int,
        content_type: str,
        expires_in: int,
        exact_fields: dict[str, str],
    ) -> tuple[str, dict[str, str]]:
        """Signed with the API function's role: it needs s3:PutObject on incoming/* (and S3 checks
        the policy's conditions, services/funders/uploads.py)."""
        conditions: list[Any] = [
            ["starts-with", "$key", key_prefix],
            ["content-length-range", 1, max_bytes],
            {"Content-Type": content_type},
            *({name: value} for name, value in exact_fields.items()),
        ]
        post = self._s3.generate_presigned_post(
            Bucket=self.name,
            Key=key,
            Fields={"Content-Type": content_type, **exact_fields},
            Conditions=conditions,
            ExpiresIn=expires_in,
        )
        return post["url"], dict(post["fields"])

    def presigned_get(self, key: str, file_name: str, expires_in: int = 300) -> str:
        return self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.name,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{file_name}"',
                "ResponseContentType": "text/csv; charset=utf-8",
            },
            ExpiresIn=expires_in,
        )
