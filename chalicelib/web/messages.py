"""« Mes messages » for trainees (guide, step 7): the conversations with the training
organisations, only where the training's funder enables messages; elsewhere every route is 404.

Each route reads the request into one use case of `services/messages/my_messages.py` and
renders; a thread or a « Mes messages » that is not the reader's raises `NotFound` (the 404 page,
by `web_view`), a message to correct `Invalid` (the form again, under its fields).

The helpers below the trainee routes serve the organisations' space too (organisation.py).
"""

from __future__ import annotations

import secrets
from typing import Any

from chalice import Blueprint, Response

from chalicelib.container import get_container
from chalicelib.faces.outcomes import note_unsent_mail
from chalicelib.services.errors import Invalid
from chalicelib.services.messages.my_messages import training_key
from chalicelib.services.messages.threads import MAX_SUBJECT_LENGTH, MAX_TEXT_LENGTH, SUBMISSION_ID
from chalicelib.web.guards import page_errors, read_form, signed_in_session, web_view
from chalicelib.web.http import FORM_CONTENT_TYPES, BadForm, CurrentSession, form_data, redirect
from chalicelib.web.rendering import html_page
from chalicelib.web.unread import remember

blueprint = Blueprint(__name__)

LABELS = {"training": "Formation", "subject": "Objet", "text": "Message", "form": "Formulaire"}
TRAINEE_URLS = {"list_url": "/messages", "thread_url": "/messages/fil"}


def _query() -> dict[str, str]:
    return dict(blueprint.current_request.query_params or {})


def _posted_thread_id() -> str:
    """The thread a reply form names, read even from an expired form: the thread is shown again
    (to its reader only) with the form's error."""
    try:
        return form_data(blueprint.current_request).get("id", "")[:64]
    except BadForm:
        return ""


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
    return html_page(
        template,
        csrf=current.session.csrf_token,
        threads=inbox.threads,
        next_cursor=inbox.next_cursor,
        cursor=cursor,
        side=inbox.side,
        funder_names=_funder_names(),
        **urls,
        **extra,
    )


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
    view = container.messages.read(current.session, thread_id)
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
    thread_id = _posted_thread_id()
    try:
        fields = read_form(blueprint.current_request, current)
    except Invalid as expired:
        return thread_page(current, template, urls, thread_id, expired.errors, None, 403)
    text = fields.get("text", "")
    messages = get_container().messages
    try:
        sent = messages.reply(current.session, thread_id, text, _submission_id(fields))
    except Invalid as refused:
        values = {"text": text[: MAX_TEXT_LENGTH * 2]}
        return thread_page(current, template, urls, thread_id, page_errors(refused), values, 400)
    note_unsent_mail(sent)
    return redirect(f"{urls['thread_url']}?id={sent.thread_id}#dernier-message")


# Trainees' routes ------------------------------------------------------------------------


@blueprint.route("/messages", methods=["GET"])
@web_view
def trainee_inbox() -> Response:
    current = signed_in_session(blueprint.current_request)
    return inbox_page(current, "messages.html", TRAINEE_URLS)


def _new_message_page(
    current: CurrentSession,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    trainings = get_container().messages.writable_trainings(current.session)
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
@web_view
def new_message_form() -> Response:
    return _new_message_page(signed_in_session(blueprint.current_request))


@blueprint.route("/messages/nouveau", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def new_message_submit() -> Response:
    current = signed_in_session(blueprint.current_request)
    try:
        fields = read_form(blueprint.current_request, current)
    except Invalid as expired:
        return _new_message_page(current, expired.errors, status_code=403)
    training, subject, text = (fields.get(name, "") for name in ("training", "subject", "text"))
    try:
        sent = get_container().messages.start(
            current.session, training, subject, text, _submission_id(fields)
        )
    except Invalid as refused:
        values = {
            "training": training[:100],
            "subject": subject[: MAX_SUBJECT_LENGTH * 2],
            "text": text[: MAX_TEXT_LENGTH * 2],
        }
        return _new_message_page(current, page_errors(refused), values, status_code=400)
    note_unsent_mail(sent)
    return redirect(f"/messages/fil?id={sent.thread_id}#dernier-message")


@blueprint.route("/messages/fil", methods=["GET"])
@web_view
def trainee_thread() -> Response:
    current = signed_in_session(blueprint.current_request)
    thread_id = _query().get("id", "")[:64]
    return thread_page(current, "message_thread.html", TRAINEE_URLS, thread_id)


@blueprint.route("/messages/fil", methods=["POST"], content_types=FORM_CONTENT_TYPES)
@web_view
def trainee_reply() -> Response:
    current = signed_in_session(blueprint.current_request)
    return reply(current, "message_thread.html", TRAINEE_URLS)
