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
from chalicelib.services.formatting import format_date_time
from chalicelib.services.funders.files import FileRecord
from chalicelib.services.funders.uploads import InvalidFileName, PresignedUpload
from chalicelib.web.funder_guard import FunderStaffContext, funder_page
from chalicelib.web.http import (
    FORM_CONTENT_TYPES,
    BadForm,
    form_data,
    redirect,
    session_csrf_ok,
)
from chalicelib.web.rendering import html_page, not_found_page
from chalicelib.web.security_headers import CONTENT_SECURITY_POLICY

blueprint = Blueprint(__name__)

FILES_PATH = "/financeur/fichiers"
DASHBOARD_PATH = "/financeur/tableau-de-bord"
NOT_FOUND = "Ce fichier n’existe pas pour votre financeur."
NOTICES = {"ok": "Fichier envoyé : il apparaît ci-dessous dès sa réception."}
MAX_FILTER_LENGTH = 100


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


def _files_page(context: FunderStaffContext) -> Response:
    container = get_container()
    query = blueprint.current_request.query_params or {}
    records = container.funder_files.list(context.funder_code)
    upload: PresignedUpload | None = None
    if context.can_manage:
        upload = container.funder_uploads.prepare(
            context.funder_code,
            None,  # the plain form: S3 takes the name of the file sent
            sender=context.account.email,
            client_ip=client_ip(blueprint.current_request),
            redirect_url=f"{container.settings.public_base_url}{FILES_PATH}?envoi=ok",
        )
    response = html_page(
        "funder_files.html",
        **context.layout(active=FILES_PATH),
        rows=_rows(records),
        upload=upload,
        notice=NOTICES.get(query.get("envoi", "")),
        max_megabytes=(upload.max_bytes // (1024 * 1024)) if upload else None,
    )
    return _with_upload_target(response, upload.url) if upload else response


@blueprint.route(FILES_PATH, methods=["GET"])
def files_page() -> Response:
    return funder_page(blueprint.current_request, _files_page)


@blueprint.route(f"{FILES_PATH}/etat", methods=["GET"])
def files_status() -> Response:
    """What the page's script polls: the status of the latest files."""

    def page(context: FunderStaffContext) -> Response:
        records = get_container().funder_files.list(context.funder_code)
        return _json({"files": [status_json(record) for record in records]})

    return funder_page(blueprint.current_request, page)


@blueprint.route(f"{FILES_PATH}/envoi", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def prepare_upload() -> Response:
    """The script's upload form for one named file (answered in JSON); « consultation »: 403."""
    request = blueprint.current_request

    def page(context: FunderStaffContext) -> Response:
        try:
            form = form_data(request)
        except BadForm:
            return _json({"error": "Formulaire illisible : rechargez la page."})
        if not session_csrf_ok(context.current, form):
            return _json({"error": "Le formulaire a expiré : rechargez la page."})
        try:
            upload = get_container().funder_uploads.prepare(
                context.funder_code,
                form.get("file_name", ""),
                sender=context.account.email,
                client_ip=client_ip(request),
            )
        except InvalidFileName as error:
            # 200 with the French message: outside /api/ every 4xx becomes the French error
            # page (web/pages.py), and the script shows this sentence under the field.
            return _json({"error": str(error)})
        return _json({"url": upload.url, "fields": upload.fields}, 201)

    return funder_page(request, page, manage=True)


@blueprint.route(f"{FILES_PATH}/rapport", methods=["GET"])
def report_page() -> Response:
    request = blueprint.current_request
    query = request.query_params or {}

    def page(context: FunderStaffContext) -> Response:
        column = query.get("colonne", "")[:MAX_FILTER_LENGTH]
        reason = query.get("motif", "")[:MAX_FILTER_LENGTH]
        view = get_container().funder_files.report(
            context.funder_code, query.get("id", ""), column, reason
        )
        if view is None:
            return not_found_page(NOT_FOUND)
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

    return funder_page(request, page)


@blueprint.route(f"{FILES_PATH}/rapport/telechargement", methods=["GET"])
def report_download() -> Response:
    """A presigned S3 link of 5 minutes, issued after the ownership check
    (docs/specs/architecture.md, D9: no file through API Gateway)."""
    request = blueprint.current_request

    def page(context: FunderStaffContext) -> Response:
        container = get_container()
        record = container.funder_files.get(
            context.funder_code, (request.query_params or {}).get("id", "")
        )
        if record is None or not record.finished or not record.report_key:
            return not_found_page(NOT_FOUND)
        return redirect(
            container.exchange.presigned_get(record.report_key, f"{record.file_name}.report.csv")
        )

    return funder_page(request, page)


@blueprint.route(DASHBOARD_PATH, methods=["GET"])
def dashboard_page() -> Response:
    def page(context: FunderStaffContext) -> Response:
        board = get_container().funder_dashboard.read(context.funder_code)
        share = board.linked_share
        return html_page(
            "funder_dashboard.html",
            **context.layout(active=DASHBOARD_PATH),
            board=board,
            month_label=f"{board.month[5:]}/{board.month[:4]}",
            share=None if share is None else f"{share * 100:.0f} %".replace(".", ","),
        )

    return funder_page(blueprint.current_request, page)
