"""« Mes messages » for trainees (guide, step 7): the conversations with the training
organisations, only where the training's funder enables messages; elsewhere every route is 404.

The helpers below the trainee routes serve the organisations' space too (organisation.py).
"""

from __future__ import annotations

import secrets
from typing import Any

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.outcomes import note_unsent_mail
from chalicelib.faces.texts import EXPIRED_FORM, THREAD_NOT_FOUND
from chalicelib.services.accounts.model import AccountKind
from chalicelib.services.messages.my_messages import training_key
from chalicelib.services.messages.threads import (
    MAX_SUBJECT_LENGTH,
    MAX_TEXT_LENGTH,
    SUBMISSION_ID,
    SendResult,
    Side,
    ThreadView,
)
from chalicelib.web.guards import signed_in
from chalicelib.web.http import (
    FORM_CONTENT_TYPES,
    BadForm,
    CurrentSession,
    form_data,
    redirect,
    session_csrf_ok,
)
from chalicelib.web.rendering import html_page, not_found_page
from chalicelib.web.unread import remember

blueprint = Blueprint(__name__)

LABELS = {"training": "Formation", "subject": "Objet", "text": "Message", "form": "Formulaire"}
TRAINEE_URLS = {"list_url": "/messages", "thread_url": "/messages/fil"}


def _query() -> dict[str, str]:
    return dict(blueprint.current_request.query_params or {})


def _fields() -> dict[str, str] | None:
    try:
        return form_data(blueprint.current_request)
    except BadForm:
        return None


def _funder_names() -> dict[str, str]:
    return {code: funder.name for code, funder in get_container().trainings.funders().items()}


def _text_limits() -> dict[str, Any]:
    return {
        "max_text": MAX_TEXT_LENGTH,
        "max_text_text": f"{MAX_TEXT_LENGTH:,}".replace(",", " "),
        "submission_id": new_submission_id(),
    }


def new_submission_id() -> str:
    """Put in each message form: the same form sent twice (a retry after an error, a double
    click) writes one message."""
    return secrets.token_urlsafe(24)


def _submission_id(fields: dict[str, str]) -> str | None:
    """The form's submission id; a missing or forged one only loses the protection."""
    typed = fields.get("envoi", "")
    return typed if SUBMISSION_ID.fullmatch(typed) else None


# Pages shared with the organisations' space -------------------------------------------------


def inbox_page(
    current: CurrentSession, template: str, urls: dict[str, str], **extra: Any
) -> Response:
    cursor = _query().get("avant", "")[:200] or None
    inbox = get_container().messages.inbox(current.session, cursor)
    if inbox is None:
        return not_found_page()
    return html_page(
        template,
        csrf=current.session.csrf_token,
        threads=inbox.threads,
        next_cursor=inbox.next_cursor,
        cursor=cursor,
        side=_side(current),
        funder_names=_funder_names(),
        **urls,
        **extra,
    )


def _side(current: CurrentSession) -> Side:
    return Side.ORGANISATION if current.session.kind is AccountKind.STAFF else Side.TRAINEE


def thread_page(
    current: CurrentSession,
    template: str,
    urls: dict[str, str],
    thread_id: str,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    container = get_container()
    view: ThreadView | None = container.messages.read(current.session, thread_id)
    if view is None:
        return not_found_page(THREAD_NOT_FOUND)
    remember(view.session)  # read just now: the count at the top right already says so
    return html_page(
        template,
        status_code=status_code,
        csrf=current.session.csrf_token,
        thread=view.thread,
        messages=view.messages,
        side=view.side,
        new_keys=view.new_keys,
        unread_by_other=view.unread_by_other_keys,
        funder_name=container.messages.funder_name(view.thread.funder_code),
        errors=errors or {},
        values=values or {},
        labels=LABELS,
        reply_action=urls["thread_url"],
        back_url=urls["list_url"],
        **_text_limits(),
    )


def reply(current: CurrentSession, template: str, urls: dict[str, str]) -> Response:
    fields = _fields()
    thread_id = (fields or {}).get("id", "")[:64]
    if fields is None or not session_csrf_ok(current, fields):
        return thread_page(current, template, urls, thread_id, {"form": EXPIRED_FORM}, None, 403)
    text = fields.get("text", "")
    result: SendResult = get_container().messages.reply(
        current.session, thread_id, text, _submission_id(fields)
    )
    if not result.found:
        return not_found_page(THREAD_NOT_FOUND)
    if not result.ok:
        values = {"text": text[: MAX_TEXT_LENGTH * 2]}
        return thread_page(current, template, urls, thread_id, result.errors, values, 400)
    note_unsent_mail(result)
    return redirect(f"{urls['thread_url']}?id={result.thread_id}#dernier-message")


# Trainees' routes ------------------------------------------------------------------------


@blueprint.route("/messages", methods=["GET"])
def trainee_inbox() -> Response:
    return signed_in(
        blueprint.current_request,
        None,
        lambda current: inbox_page(current, "messages.html", TRAINEE_URLS),
    )


def _new_message_page(
    current: CurrentSession,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    trainings = get_container().messages.trainings(current.session.account_id)
    if not trainings:
        return not_found_page()
    return html_page(
        "message_new.html",
        status_code=status_code,
        csrf=current.session.csrf_token,
        trainings=trainings,
        training_key=training_key,
        errors=errors or {},
        values=values if values is not None else {"training": _query().get("formation", "")},
        labels=LABELS,
        max_subject=MAX_SUBJECT_LENGTH,
        **_text_limits(),
    )


@blueprint.route("/messages/nouveau", methods=["GET"])
def new_message_form() -> Response:
    return signed_in(blueprint.current_request, None, _new_message_page)


@blueprint.route("/messages/nouveau", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def new_message_submit() -> Response:
    def submit(current: CurrentSession) -> Response:
        fields = _fields()
        if fields is None or not session_csrf_ok(current, fields):
            return _new_message_page(current, {"form": EXPIRED_FORM}, status_code=403)
        values = {
            "training": fields.get("training", "")[:100],
            "subject": fields.get("subject", "")[: MAX_SUBJECT_LENGTH * 2],
            "text": fields.get("text", "")[: MAX_TEXT_LENGTH * 2],
        }
        result = get_container().messages.start(
            current.session,
            fields.get("training", ""),
            fields.get("subject", ""),
            fields.get("text", ""),
            _submission_id(fields),
        )
        if not result.found:
            return not_found_page()
        if not result.ok:
            return _new_message_page(current, result.errors, values, status_code=400)
        note_unsent_mail(result)
        return redirect(f"/messages/fil?id={result.thread_id}#dernier-message")

    return signed_in(blueprint.current_request, None, submit)


@blueprint.route("/messages/fil", methods=["GET"])
def trainee_thread() -> Response:
    return signed_in(
        blueprint.current_request,
        None,
        lambda current: thread_page(
            current, "message_thread.html", TRAINEE_URLS, _query().get("id", "")[:64]
        ),
    )


@blueprint.route("/messages/fil", methods=["POST"], content_types=FORM_CONTENT_TYPES)
def trainee_reply() -> Response:
    return signed_in(
        blueprint.current_request,
        None,
        lambda current: reply(current, "message_thread.html", TRAINEE_URLS),
    )
