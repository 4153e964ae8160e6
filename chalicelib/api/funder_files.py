"""The funder's systems under /api/v1/funder/… (API key, chalicelib/api/funder_auth.py): an upload
URL (presigned POST), the files and their status, a file's report. Every call takes the funder's
code from the key, never from the request: another funder's file answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.bodies import read_fields
from chalicelib.api.funder_auth import authenticate_funder
from chalicelib.api.responses import JSON_CONTENT_TYPES, api_view, json_response
from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.funders.files import FileRecord

blueprint = Blueprint(__name__)


def file_json(record: FileRecord) -> dict[str, Any]:
    return {
        "id": record.file_id,
        "name": record.file_name,
        "status": record.status.value,
        "received_at": record.received_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "sender": record.sender,
        "sender_address": record.sender_ip,
        "reason": record.reason,
        "counts": dict(record.counts),
    }


@blueprint.route("/api/v1/funder/uploads", methods=["POST"], content_types=JSON_CONTENT_TYPES)
@api_view
def create_upload() -> Response:
    request = blueprint.current_request
    client = authenticate_funder(request)
    fields = read_fields(request, texts=("file_name",))
    upload = get_container().funder_uploads.prepare(
        client.funder_code,
        fields.text("file_name"),
        sender=f"api-key:{client.key_id}",
        client_ip=client_ip(request),
    )
    return json_response(
        {
            "url": upload.url,
            "fields": upload.fields,
            "expires_at": upload.expires_at.isoformat(),
            "max_bytes": upload.max_bytes,
            "key": upload.key,
        },
        201,
    )


@blueprint.route("/api/v1/funder/files", methods=["GET"], content_types=JSON_CONTENT_TYPES)
@api_view
def list_files() -> Response:
    client = authenticate_funder(blueprint.current_request)
    records = get_container().funder_files.list(client.funder_code)
    return json_response({"files": [file_json(record) for record in records]})


@blueprint.route(
    "/api/v1/funder/files/{file_id}", methods=["GET"], content_types=JSON_CONTENT_TYPES
)
@api_view
def file_status(file_id: str) -> Response:
    client = authenticate_funder(blueprint.current_request)
    return json_response(file_json(get_container().funder_files.get(client.funder_code, file_id)))


@blueprint.route(
    "/api/v1/funder/files/{file_id}/report", methods=["GET"], content_types=JSON_CONTENT_TYPES
)
@api_view
def file_report(file_id: str) -> Response:
    request = blueprint.current_request
    client = authenticate_funder(request)
    query = request.query_params or {}
    view = get_container().funder_files.report(
        client.funder_code, file_id, query.get("column", ""), query.get("reason", "")
    )
    return json_response(
        {
            "file": file_json(view.record),
            "rejected_lines": [
                {"line": line.line, "column": line.column, "reason": line.reason}
                for line in view.lines
            ],
            "rejected_lines_matching": view.total_rejected,
            "columns": view.columns,
            "csv_url": view.csv_url,
        }
    )
