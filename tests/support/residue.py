"""Where a person's data is still held: every item of every DynamoDB table and every object (and
object version) of every bucket of the emulator, searched for their mail, names, dossier numbers
and account id. Scans are fine here: this is the test's eye, never the app's."""

from __future__ import annotations

import json
import unicodedata
from collections import defaultdict
from typing import Any

import boto3

# Generated PDFs may compress their text: any object left there names its trainee.
DOCUMENTS_MARK = "un PDF généré"


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def personal_residue(*needles: str) -> dict[str, set[str]]:
    """{"<table or bucket>": {needles found there}}: only the places that hold one of them."""
    wanted = {needle: _plain(needle) for needle in needles if needle}
    found: dict[str, set[str]] = defaultdict(set)

    def search(place: str, text: str) -> None:
        plain = _plain(text)
        for needle, folded in wanted.items():
            if folded in plain:
                found[place].add(needle)

    dynamodb = boto3.client("dynamodb")
    for table in dynamodb.list_tables()["TableNames"]:
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                search(table, json.dumps(item, default=_binary, ensure_ascii=False))
    s3 = boto3.client("s3")
    for bucket in (b["Name"] for b in s3.list_buckets()["Buckets"]):
        for key, version in _objects(s3, bucket):
            if "-documents-" in bucket:
                found[bucket].add(DOCUMENTS_MARK)
            extra = {"VersionId": version} if version else {}
            body = s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()
            search(bucket, key + "\n" + body.decode("utf-8", errors="ignore"))
            search(bucket, body.decode("cp1252", errors="ignore"))
    return dict(found)


def _objects(s3: Any, bucket: str) -> list[tuple[str, str | None]]:
    """Every version of every object (the exchange bucket is versioned), delete markers aside."""
    objects: list[tuple[str, str | None]] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            version_id = version.get("VersionId")
            objects.append((version["Key"], None if version_id in (None, "null") else version_id))
    return objects


def _binary(value: object) -> str:
    return value.decode("utf-8", errors="ignore") if isinstance(value, bytes) else str(value)
