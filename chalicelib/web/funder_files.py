"""« Fichiers » and « Tableau de bord » of the funders' space: send a file straight to S3 (a
presigned POST; a progress bar with JavaScript, a plain form POST without), follow the files (a
small script polls `/financeur/fichiers/etat`; « Actualiser » without JavaScript), read a report
and download its CSV. Every service call takes the funder's code from the guard's context: another
funder's file answers like a missing one (404)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.requests import client_ip
from chalicelib.services.errors import Invalid
from chalicelib.services.formatting import format_date_time
from chalicelib.services.funders.files import MAX_FILTER_LENGTH, FileRecord
from chalicelib.services.funders.uploads import PresignedUpload
from chalicelib.web.funder_guard import funder_staff
from chalicelib.web.guards import read_form, web_view
from chalicelib.web.http import FORM_CONTENT_TYPES, redirect
from chalicelib.web.rendering import html_page
from chalicelib.web.security_headers import CONTENT_SECURITY_POLICY

blueprint = Blueprint(__name__)

FILES_PATH = "/financeur/fichiers"
DASHBOARD_PATH = "/financeur/tableau-de-bord"
EXPIRED_PAGE = "Le formulaire a expiré : rechargez la page."
NOTICES = {"ok": "Fichier envoyé : il apparaît ci-dessous dès sa réception."}


def _json(body: object, status_code: int = 200) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False),
        status_code=status_code,
        headers={"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"},
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _with_upload_target(response: Response, upload_url: str) -> Response:
    """This page's form and script send the file to the bucket: the CSP lets them reach it
    (form-action for the plain form, connect-src for the script), and nothing else."""
    origin = _origin(upload_url)
    response.headers["Content-Security-Policy"] = (
        CONTENT_SECURITY_POLICY.replace(
            "default-src 'self';", f"default-src 'self'; connect-src 'self' {origin};"
        )
        + f" {origin}"
    )
    return response


def status_json(record: FileRecord) -> dict[str, object]:
    return {
        "id": record.file_id,
        "name": record.file_name,
        "status": record.status.value,
        "finished": record.finished,
        "reason": record.reason,
        "counts": dict(record.counts),
    }


def _sender(record: FileRecord) -> str:
    if record.sender.startswith("api-key:"):
        return f"API (clé {record.sender.removeprefix('api-key:')})"
    return record.sender


def _rows(records: list[FileRecord]) -> list[dict[str, object]]:
    return [
        {
            "record": record,
            "received": format_date_time(record.received_at),
            "sender": _sender(record),
        }
        for record in records
    ]


@blueprint.route(FILES_PATH, methods=["GET"])
@web_view
def files_page() -> Response:
    request = blueprint.current_request
    context = funder_staff(request)
    container = get_container()
    upload: PresignedUpload | None = None
    if context.can_manage:
        upload = container.funder_uploads.prepare(
            context.funder_code,
            None,  # the plain form: S3 takes the name of the file sent
            sender=context.account.email,
            client_ip=client_ip(request),
            redirect_url=f"{container.settings.public_base_url}{FILES_PATH}?envoi=ok",
        )
    response = html_page(
        "funder_files.html",
        **context.layout(active=FILES_PATH),
        rows=_rows(container.funder_files.list(context.funder_code)),
        upload=upload,
        notice=NOTICES.get((request.query_params or {}).get("envoi", "")),
        max_megabytes=(upload.max_bytes // (1024 * 1024)) if upload else None,
    )
    return _with_upload_target(response, upload.url) if upload else response


@blueprint.route(f"{FILES_PATH}/etat", methods=["GET"])
@web_view
def files_status() -> Response:
    """What the page's script polls: the status of the latest files."""
    context = funder_staff(blueprint.current_request)
    records = get_container().funder_files.list(context.funder_code)
    return _json({"files": [status_json(record) for record in records]})


@blueprint.route(f"{FILES_PATH}/envoi", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def prepare_upload() -> Response:
    """The script's upload form for one named file (answered in JSON); « consultation »: 403.
    A refusal answers 200 with the French message: outside /api/ every 4xx becomes the French
    error page (web/pages.py), and the script shows this sentence under the field."""
    request = blueprint.current_request
    context = funder_staff(request, manage=True)
    try:
        form = read_form(request, context.current)
        upload = get_container().funder_uploads.prepare(
            context.funder_code,
            form.get("file_name", ""),
            sender=context.account.email,
            client_ip=client_ip(request),
        )
    except Invalid as refused:  # an expired form, or a name the portal would not read
        return _json({"error": refused.errors.get("file_name", EXPIRED_PAGE)})
    return _json({"url": upload.url, "fields": upload.fields}, 201)


@blueprint.route(f"{FILES_PATH}/rapport", methods=["GET"])
@web_view
def report_page() -> Response:
    request = blueprint.current_request
    context = funder_staff(request)
    query = request.query_params or {}
    column = query.get("colonne", "")[:MAX_FILTER_LENGTH]
    reason = query.get("motif", "")[:MAX_FILTER_LENGTH]
    view = get_container().funder_files.report(
        context.funder_code, query.get("id", ""), column, reason
    )
    return html_page(
        "funder_report.html",
        **context.layout(active=FILES_PATH),
        view=view,
        record=view.record,
        received=format_date_time(view.record.received_at),
        sender=_sender(view.record),
        column=column,
        reason=reason,
    )


@blueprint.route(f"{FILES_PATH}/rapport/telechargement", methods=["GET"])
@web_view
def report_download() -> Response:
    """A presigned S3 link of 5 minutes, issued after the ownership check."""
    request = blueprint.current_request
    context = funder_staff(request)
    file_id = (request.query_params or {}).get("id", "")
    return redirect(get_container().funder_files.report_link(context.funder_code, file_id))


def _percent(share: float | None) -> str | None:
    return None if share is None else f"{share * 100:.0f}\u00a0%"


@blueprint.route(DASHBOARD_PATH, methods=["GET"])
@web_view
def dashboard_page() -> Response:
    context = funder_staff(blueprint.current_request)
    board = get_container().funder_dashboard.read(context.funder_code)
    return html_page(
        "funder_dashboard.html",
        **context.layout(active=DASHBOARD_PATH),
        board=board,
        month_label=f"{board.month[5:]}/{board.month[:4]}",
        share=_percent(board.linked_share),
        activated_share=_percent(board.activated_share),
    )
