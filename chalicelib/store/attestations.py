"""« Mes attestations » in DynamoDB (items of the terms table: see AttestationItem)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.services.trainings.attestations import (
    Attestation,
    AttestationPeriod,
    Statement,
    StatementLine,
)
from chalicelib.store.models import AttestationItem

CODE_SK = "code"


def owner_pk(account_id: str) -> str:
    return f"attestations#{account_id}"


def attestation_sk(attestation_id: str) -> str:
    return f"attestation#{attestation_id}"


def code_pk(code_hash: str) -> str:
    return f"attestation-code#{code_hash}"


def statement_json(statement: Statement) -> str:
    period = statement.period
    return json.dumps(
        {
            "period": [period.start.isoformat(), period.end.isoformat(), period.label],
            "name": statement.trainee_name,
            "birth_date": statement.birth_date.isoformat() if statement.birth_date else None,
            "funders": list(statement.funders),
            "trainings": list(statement.trainings),
            # Amounts as strings: Decimal to the cent, never a float on the way.
            "lines": [
                [
                    line.payment_date.isoformat(),
                    line.reference,
                    line.funder,
                    line.training,
                    str(line.amount),
                ]
                for line in statement.lines
            ],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def statement_from_json(text: str) -> Statement:
    data: dict[str, Any] = json.loads(text)
    start, end, label = data["period"]
    return Statement(
        period=AttestationPeriod(date.fromisoformat(start), date.fromisoformat(end), label),
        trainee_name=data["name"],
        birth_date=date.fromisoformat(data["birth_date"]) if data["birth_date"] else None,
        funders=tuple(data["funders"]),
        trainings=tuple(data["trainings"]),
        lines=tuple(
            StatementLine(date.fromisoformat(day), reference, funder, training, Decimal(amount))
            for day, reference, funder, training, amount in data["lines"]
        ),
    )


def to_attestation(item: AttestationItem) -> Attestation:
    assert item.code and item.statement and item.issued_at and item.expires_at
    return Attestation(
        attestation_id=item.attestation_id,
        account_id=item.account_id,
        code=item.code,
        statement=statement_from_json(item.statement),
        issued_at=item.issued_at,
        expires_at=item.expires_at,
        withdrawn_at=item.withdrawn_at,
        verification_count=int(item.verification_count or 0),
        last_verified_at=item.last_verified_at,
    )


class DynamoAttestationRepository:
    def create(self, attestation: Attestation, code_hash: str) -> None:
        """The attestation and its look-up item together, or neither; never over another."""
        with TransactWrite(connection=Connection(region=AttestationItem.Meta.region)) as write:
            write.save(
                AttestationItem(
                    pk=owner_pk(attestation.account_id),
                    sk=attestation_sk(attestation.attestation_id),
                    account_id=attestation.account_id,
                    attestation_id=attestation.attestation_id,
                    code=attestation.code,
                    statement=statement_json(attestation.statement),
                    issued_at=attestation.issued_at,
                    expires_at=attestation.expires_at,
                    verification_count=0,
                ),
                condition=AttestationItem.pk.does_not_exist(),
            )
            write.save(
                AttestationItem(
                    pk=code_pk(code_hash),
                    sk=CODE_SK,
                    account_id=attestation.account_id,
                    attestation_id=attestation.attestation_id,
                ),
                condition=AttestationItem.pk.does_not_exist(),
            )

    def list_for_account(self, account_id: str, limit: int) -> list[Attestation]:
        items = AttestationItem.query(
            owner_pk(account_id),
            AttestationItem.sk.startswith("attestation#"),
            scan_index_forward=False,  # ids start with the time of issue: newest first
            limit=limit,
        )
        return [to_attestation(item) for item in items]

    def get(self, account_id: str, attestation_id: str) -> Attestation | None:
        try:
            item = AttestationItem.get(owner_pk(account_id), attestation_sk(attestation_id))
        except DoesNotExist:
            return None
        return to_attestation(item)

    def withdraw(self, account_id: str, attestation_id: str, at: datetime) -> bool:
        """Keyed by the owner: someone else's id finds nothing. Withdrawing twice keeps the
        first date (if_not_exists)."""
        item = AttestationItem(pk=owner_pk(account_id), sk=attestation_sk(attestation_id))
        try:
            item.update(
                actions=[AttestationItem.withdrawn_at.set(AttestationItem.withdrawn_at | at)],
                condition=AttestationItem.pk.exists(),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def count_verification(self, code_hash: str, at: datetime) -> Attestation | None:
        """Two requests: the look-up item, then one atomic ADD that returns the attestation as
        counted (ReturnValues ALL_NEW), so two verifications at once both count."""
        try:
            found = AttestationItem.get(code_pk(code_hash), CODE_SK)
        except DoesNotExist:
            return None
        item = AttestationItem(
            pk=owner_pk(found.account_id), sk=attestation_sk(found.attestation_id)
        )
        try:
            item.update(
                actions=[
                    AttestationItem.verification_count.add(1),
                    AttestationItem.last_verified_at.set(at),
                ],
                condition=AttestationItem.pk.exists(),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        return to_attestation(item)
