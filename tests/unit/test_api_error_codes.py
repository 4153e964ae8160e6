"""Every error code the API raises is one its OpenAPI document lists: schemathesis refuses any
other (a 429 « too_many_requests » of the funder API once broke the fuzzing journey)."""

from __future__ import annotations

import json
import re
from pathlib import Path

API = Path(__file__).resolve().parents[2] / "chalicelib" / "api"
RAISED = re.compile(r"ApiError\(\s*\d{3},\s*\"([a-z_]+)\"")


def documented_codes() -> set[str]:
    document = json.loads((API / "openapi.json").read_text(encoding="utf-8"))
    error = document["components"]["schemas"]["Error"]["properties"]["error"]
    return set(error["properties"]["code"]["enum"])


def test_every_error_code_raised_by_the_api_is_documented():
    raised = {
        (path.name, code)
        for path in API.glob("*.py")
        for code in RAISED.findall(path.read_text(encoding="utf-8"))
    }
    assert raised, "the pattern no longer finds the API's errors"
    assert sorted((name, code) for name, code in raised if code not in documented_codes()) == []
