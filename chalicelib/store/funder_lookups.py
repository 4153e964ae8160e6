"""The consultation journal of the funders' dossier look-ups (services/funders/lookup.py).

Kept in the audit table, under one partition per dossier (« who looked at whom, when »): the
trainee's « Mes données » reads it with one Query per dossier, before or after the account was
linked, and the dossier's erasure deletes that partition with the dossier (store/erasure.py).
Like every audit event it expires after the audit period.
"""

from __future__ import annotations

import secrets

from chalicelib.services.funders.lookup import CallerKind, Consultation
from chalicelib.services.trainings.dossiers import dossier_key
from chalicelib.store.models import AuditItem
from chalicelib.store.security import AUDIT_RETENTION

CONSULTATION_PREFIX = "consultation#"
CONSULTATION_EVENT = "funder-dossier-lookup"


def consultation_partition(funder_code: str, dossier_number: str) -> str:
    # Account ids are hex: this partition can never be an account's.
    return f"{CONSULTATION_PREFIX}{dossier_key(funder_code, dossier_number)}"


class DynamoConsultationJournal:
    def record(self, consultation: Consultation) -> None:
        AuditItem(
            account_id=consultation_partition(
                consultation.funder_code, consultation.dossier_number
            ),
            # Time first (ordered), then random: two look-ups in the same microsecond both stay.
            event_key=f"{consultation.at.isoformat()}#{secrets.token_hex(4)}",
            event=CONSULTATION_EVENT,
            occurred_at=consultation.at,
            details={
                "funder": consultation.funder_code,
                "dossier": consultation.dossier_number,
                "caller": consultation.caller_kind.value,
                "role": consultation.role,
                "actor": consultation.actor_reference,
            },
            expires_at=consultation.at + AUDIT_RETENTION,
        ).save()

    def consultations(self, funder_code: str, dossier_number: str) -> list[Consultation]:
        found: list[Consultation] = []
        for item in AuditItem.query(consultation_partition(funder_code, dossier_number)):
            details = item.details.as_dict() if item.details else {}
            found.append(
                Consultation(
                    funder_code=funder_code,
                    dossier_number=dossier_number,
                    at=item.occurred_at,
                    caller_kind=CallerKind(details.get("caller", CallerKind.STAFF.value)),
                    role=details.get("role", ""),
                    actor_reference=details.get("actor", ""),
                )
            )
        return found

    def delete_for_dossier(self, funder_code: str, dossier_number: str) -> None:
        with AuditItem.batch_write() as batch:
            for item in AuditItem.query(consultation_partition(funder_code, dossier_number)):
                batch.delete(item)
