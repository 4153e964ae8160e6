"""What both faces do with a service's answer besides showing it."""

from __future__ import annotations

from chalicelib.observability import logger
from chalicelib.services.messages.threads import Sent


def note_unsent_mail(result: Sent) -> None:
    """The message is kept and shows at the next visit; the operators learn the mail failed."""
    if not result.notified:
        # "thread" would clash with LogRecord's own attribute (logging raises KeyError).
        logger.warning("New message mail not sent", extra={"thread_id": result.thread_id})
