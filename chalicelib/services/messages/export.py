"""The « messages » section of « Mes données »: every thread of the trainee, whatever its
funder's setting, with subjects, dates, directions and read states; never the texts."""

from __future__ import annotations

from typing import Any

from chalicelib.services.messages.threads import MessageRepository, Side, Thread, last

EXPORT_PAGE = 100


def export_messages(repository: MessageRepository, account_id: str) -> list[dict[str, Any]]:
    threads: list[Thread] = []
    cursor: str | None = None
    while True:
        page = repository.threads_of_account(account_id, EXPORT_PAGE, cursor)
        threads.extend(page.threads)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return [_thread_metadata(repository, thread) for thread in threads]


def _thread_metadata(repository: MessageRepository, thread: Thread) -> dict[str, Any]:
    metadata = repository.message_metadata(thread.thread_id)
    unread: set[int] = set()
    for side in Side:
        positions = [index for index, message in enumerate(metadata) if message.side is side]
        unread.update(last(positions, thread.unread_for(side.other)))
    return {
        "objet": thread.subject,
        "organisme": thread.organisation_name,
        "financeur": thread.funder_code,
        "dossier": thread.dossier_number,
        "commence_le": thread.created_at.isoformat(),
        "dernier_message_le": thread.updated_at.isoformat(),
        "messages": [
            {
                "envoye_le": message.sent_at.isoformat(),
                "sens": "envoyé" if message.side is Side.TRAINEE else "reçu",
                "lu_par_le_destinataire": index not in unread,
            }
            for index, message in enumerate(metadata)
        ],
    }
