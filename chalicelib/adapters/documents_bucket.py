"""The documents bucket: generated PDFs and captcha sounds, private, reached only through
presigned links."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


class S3DocumentFiles:
    def __init__(self, s3_client: Any, bucket: str) -> None:
        self._s3 = s3_client
        self._bucket = bucket

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def put_pdf(self, key: str, data: bytes) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType="application/pdf")

    def download_url(self, key: str, filename: str, expires_in: int) -> str:
        return self._presigned(key, "application/pdf", filename, expires_in)

    def put_audio(self, key: str, data: bytes) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType="audio/wav")

    def audio_url(self, key: str, filename: str, expires_in: int) -> str:
        return self._presigned(key, "audio/wav", filename, expires_in)

    def _presigned(self, key: str, content_type: str, filename: str, expires_in: int) -> str:
        return self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
            },
            ExpiresIn=expires_in,
        )

    def delete_for_account(self, account_id: str) -> int:
        """Every PDF made for the account (one prefix per account, see `document_key`)."""
        from chalicelib.services.trainings.document_delivery import owner_prefix

        deleted = 0
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self._bucket, Prefix=owner_prefix(account_id)):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:  # at most 1,000 per page, which DeleteObjects takes at once
                self._s3.delete_objects(
                    Bucket=self._bucket, Delete={"Objects": keys, "Quiet": True}
                )
                deleted += len(keys)
        return deleted
