"""Sending mails through Amazon SES (v1 API), as raw MIME messages built with the stdlib.

Raw messages rather than `send_email`: we choose every header (Auto-Submitted, Message-ID on our
domain) and the local stack reads the same bytes back into `.local/outbox/`.
Nothing here logs a body, a subject or an address: a mail may carry a temporary password.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.observability import logger
from chalicelib.services.mail.mails import MailNotSent, MailThrottled

if TYPE_CHECKING:
    from chalicelib.services.mail.mails import OutgoingMail

SENDER_DISPLAY_NAME = "Portail stagiaire"
# Over the account's sending rate or daily quota, SES refuses with "Throttling" (its query API)
# or "ThrottlingException" ("Maximum sending rate exceeded" / "Daily message quota exceeded"),
# once botocore's own retries are spent; AWS asks to retry within 10 minutes
# (https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html). The other names
# are those of other AWS services' throttling, kept in case SES v2 is used.
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "MaxSendingRateExceeded"}
)


class SesMailer:
    def __init__(self, ses_client: Any, sender: str, configuration_set: str | None) -> None:
        self._ses = ses_client
        self.sender = sender
        self.configuration_set = configuration_set

    def send(self, mail: OutgoingMail) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        request: dict[str, Any] = {"RawMessage": {"Data": self.mime_bytes(mail)}}
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        if mail.tags:
            # API parameters rather than X-SES-MESSAGE-TAGS: with both, SES keeps only these
            # (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-send-email.html).
            request["Tags"] = [{"Name": name, "Value": value} for name, value in mail.tags]
        try:
            response = self._ses.send_raw_email(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            if code in THROTTLING_CODES:
                raise MailThrottled(f"SES throttled the mail ({code})") from error
            raise MailNotSent(f"SES refused the mail ({code})") from error
        except BotoCoreError as error:
            raise MailNotSent(f"SES could not be reached ({type(error).__name__})") from error
        # The SES id is what bounce and complaint notifications refer to.
        logger.info("Mail handed to SES", extra={"ses_message_id": response.get("MessageId")})

    def mime_bytes(self, mail: OutgoingMail) -> bytes:
        """The MIME bytes, 7-bit safe: quoted-printable bodies, RFC 2047 headers.

        Line ends stay "\n" (policy.default), as in AWS's own raw-mail examples: SES accepts them,
        and a reader of the raw bytes (the local outbox, the tests) gets the text back unchanged.
        """
        # Imported here: every signed-in page builds the mailer, few send a mail (cold start).
        from email import policy
        from email.headerregistry import Address
        from email.message import EmailMessage
        from email.utils import format_datetime, make_msgid

        local_part, _, domain = self.sender.rpartition("@")
        message = EmailMessage(policy=policy.default)
        # The default policy refuses CR/LF in header values, so a crafted address or subject
        # cannot add headers or recipients.
        message["From"] = Address(SENDER_DISPLAY_NAME, local_part, domain)
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = make_msgid(domain=domain)
        # RFC 3834: out-of-office and other robots must not answer a no-reply address.
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
        message.set_content(mail.text, subtype="plain", charset="utf-8", cte="quoted-printable")
        if mail.html is not None:
            message.add_alternative(
                mail.html, subtype="html", charset="utf-8", cte="quoted-printable"
            )
        return message.as_bytes()
