"""« Mes messages » for mobile apps under /api/v1 (the trainee's side), over the same service as
the HTML pages. A trainee without a training whose funder enables messages gets 404 on every
route but the unread count; an organisation staff session gets 404 everywhere (its space is the
web one). The service raises `NotFound` (a thread or a « Mes messages » that is not the caller's)
and `Invalid` (a message to correct); `api_view` answers them."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.auth import ApiSession, authenticate
from chalicelib.api.bodies import invalid_request, read_fields
from chalicelib.api.responses import JSON_CONTENT_TYPES, api_view, json_response
from chalicelib.container import get_container
from chalicelib.faces.outcomes import note_unsent_mail
from chalicelib.services.accounts.model import AccountKind
from chalicelib.services.errors import NotFound
from chalicelib.services.messages.my_messages import KEY_SEPARATOR, training_key
from chalicelib.services.messages.threads import (
    BAD_SUBMISSION_ID,
    NO_MESSAGES,
    SUBMISSION_ID,
    Message,
    Sent,
    Side,
    Thread,
    ThreadView,
)
from chalicelib.services.trainings.dossiers import Dossier

blueprint = Blueprint(__name__)

# A cursor of ours (next_cursor) is far shorter; a longer one is not ours, so it is refused.
MAX_CURSOR_LENGTH = 200
BAD_CURSOR = "Ce curseur n’est pas valable : reprenez la liste depuis le début."


def _trainee() -> ApiSession:
    current = authenticate(blueprint.current_request)
    if current.session.kind is not AccountKind.TRAINEE:
        raise NotFound(NO_MESSAGES)
    return current


def _thread_json(thread: Thread) -> dict[str, Any]:
    return {
        "id": thread.thread_id,
        "subject": thread.subject,
        "training": {
            "key": f"{thread.funder_code}{KEY_SEPARATOR}{thread.dossier_number}",
            "title": thread.training_title,
            "dossier_number": thread.dossier_number,
            "funder_code": thread.funder_code,
            "funder_name": get_container().messages.funder_name(thread.funder_code),
        },
        "organisation_name": thread.organisation_name,
        "created_at": thread.created_at.isoformat(),
        "updated_at": thread.updated_at.isoformat(),
        "message_count": thread.message_count,
        "unread": thread.unread_for_trainee,
        "last_from": thread.last_side.value,
    }


def _training_json(dossier: Dossier) -> dict[str, Any]:
    """A training the trainee may write about (where a new thread names its `key`)."""
    return {
        "key": training_key(dossier),
        "title": dossier.training_title,
        "organisation_name": dossier.organisation_name,
        "funder_code": dossier.funder_code,
        "dossier_number": dossier.dossier_number,
    }


def _message_json(message: Message, view: ThreadView) -> dict[str, Any]:
    mine = message.side is Side.TRAINEE
    return {
        "id": message.key,
        "from": message.side.value,
        "text": message.text,
        "sent_at": message.sent_at.isoformat(),
        "unread": message.key in view.new_keys,
        "read_by_recipient": (message.key not in view.unread_by_other_keys) if mine else None,
    }


def _view_json(view: ThreadView) -> dict[str, Any]:
    return {
        **_thread_json(view.thread),
        "unread": len(view.new_keys),  # as it stood before this reading, which marked it read
        "messages": [_message_json(message, view) for message in view.messages],
    }


def _idempotency_key() -> str | None:
    """The optional `Idempotency-Key` header: a retry with the same key writes nothing more and
    answers with the thread the first request wrote."""
    key = blueprint.current_request.headers.get("idempotency-key")
    if key is None:
        return None
    if not SUBMISSION_ID.fullmatch(key):
        raise invalid_request(BAD_SUBMISSION_ID, {"Idempotency-Key": BAD_SUBMISSION_ID})
    return key


def _sent(current: ApiSession, sent: Sent) -> Response:
    """201 with the thread as it now reads (404 if the funder switched messages off since)."""
    note_unsent_mail(sent)
    view = get_container().messages.read(current.session, sent.thread_id)
    return json_response({"thread": _view_json(view)}, 201)


@blueprint.route("/api/v1/messages/unread-count", methods=["GET"], content_types=JSON_CONTENT_TYPES)
@api_view
def unread_count() -> Response:
    current = _trainee()
    return json_response({"unread": get_container().unread_counts.total(current.session.unread)})


@blueprint.route("/api/v1/messages/threads", methods=["GET"], content_types=JSON_CONTENT_TYPES)
@api_view
def list_threads() -> Response:
    current = _trainee()
    cursor = (blueprint.current_request.query_params or {}).get("before", "") or None
    if cursor is not None and len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid_request(BAD_CURSOR, {"before": BAD_CURSOR})
    inbox = get_container().messages.inbox(current.session, cursor)
    return json_response(
        {
            "threads": [_thread_json(thread) for thread in inbox.threads],
            "next_cursor": inbox.next_cursor,
            "trainings": [_training_json(dossier) for dossier in inbox.trainings],
        }
    )


@blueprint.route("/api/v1/messages/threads", methods=["POST"], content_types=JSON_CONTENT_TYPES)
@api_view
def start_thread() -> Response:
    current = _trainee()
    fields = read_fields(blueprint.current_request, texts=("training", "subject", "text"))
    training, subject, text = (fields.text(name) for name in ("training", "subject", "text"))
    sent = get_container().messages.start(
        current.session, training, subject, text, _idempotency_key()
    )
    return _sent(current, sent)


@blueprint.route(
    "/api/v1/messages/threads/{thread_id}", methods=["GET"], content_types=JSON_CONTENT_TYPES
)
@api_view
def read_thread(thread_id: str) -> Response:
    current = _trainee()
    view = get_container().messages.read(current.session, thread_id)
    return json_response({"thread": _view_json(view)})


@blueprint.route(
    "/api/v1/messages/threads/{thread_id}/messages",
    methods=["POST"],
    content_types=JSON_CONTENT_TYPES,
)
@api_view
def reply_in_thread(thread_id: str) -> Response:
    current = _trainee()
    fields = read_fields(blueprint.current_request, texts=("text",))
    sent = get_container().messages.reply(
        current.session, thread_id, fields.text("text"), _idempotency_key()
    )
    return _sent(current, sent)
