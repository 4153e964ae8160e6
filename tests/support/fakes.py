"""Fakes of the adapters for unit tests: same methods as the real ones, no network, no waiting."""

from __future__ import annotations

import hashlib
import secrets

from chalicelib.services.mails import MailNotSent, OutgoingMail


class PlainTestHasher:
    """Stands for Argon2Hasher at the cost of one SHA-256 (Argon2id takes tens of milliseconds).

    Like the real one, it salts every hash, so code that compares two hashes instead of calling
    `verify` fails here too; `version` plays the part of the Argon2 parameters for `needs_rehash`.
    """

    def __init__(self, version: int = 1) -> None:
        self.version = version

    def hash(self, secret: str) -> str:
        salt = secrets.token_hex(4)
        return f"test$v{self.version}${salt}${self._digest(salt, secret)}"

    def verify(self, hashed: str, secret: str) -> bool:
        parts = hashed.split("$")
        if len(parts) != 4 or parts[0] != "test":
            return False
        _, _, salt, digest = parts
        return secrets.compare_digest(digest, self._digest(salt, secret))

    def needs_rehash(self, hashed: str) -> bool:
        return not hashed.startswith(f"test$v{self.version}$")

    @staticmethod
    def _digest(salt: str, secret: str) -> str:
        return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


class RecordingMailer:
    """Stands for SesMailer: keeps what it is asked to send, or refuses it when `failing`."""

    def __init__(self, failing: bool = False) -> None:
        self.sent: list[OutgoingMail] = []
        self.failing = failing

    def send(self, mail: OutgoingMail) -> None:
        if self.failing:
            raise MailNotSent("SES refused the mail (test)")
        self.sent.append(mail)

    def sent_to(self, address: str) -> list[OutgoingMail]:
        return [mail for mail in self.sent if mail.to == address]
