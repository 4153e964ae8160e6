"""What a signed-in person types again before a sensitive change (« Mon compte », « Fermer mon
compte »): a stolen session alone must not be enough to take the account over."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Credential(StrEnum):
    PASSWORD = "password"
    ANSWER = "answer"


@dataclass(frozen=True)
class Proof:
    """The password, the current secret answer, or both, as typed. Which one counts is the
    service's choice (an account without a password proves itself with its answer), never the
    form's."""

    password: str = ""
    secret_answer: str = ""

    def of(self, kind: Credential) -> str:
        return self.password if kind is Credential.PASSWORD else self.secret_answer
