"""Payments in DynamoDB: one item per payment, its lines inside, keyed by the funder's reference."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from pynamodb.exceptions import UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.services.formatting import paris_month
from chalicelib.services.funder_files.model import PaymentElement
from chalicelib.services.trainings.dossiers import dossier_key
from chalicelib.services.trainings.payments import Payment, PaymentLine, StoredPayment
from chalicelib.store.conditional_writes import put_if, written_unless_refused
from chalicelib.store.dashboard import counter_updates
from chalicelib.store.models import PaymentItem, PaymentLineAttribute


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def to_payment(item: PaymentItem) -> Payment:
    return Payment(
        funder_code=item.funder_code,
        reference=item.reference,
        dossier_number=item.dossier_number,
        payment_date=date.fromisoformat(item.payment_date),
        lines=tuple(
            PaymentLine(
                period_start=date.fromisoformat(line.period_start),
                period_end=date.fromisoformat(line.period_end),
                element=PaymentElement(line.element),
                label=line.label,
                rate=_decimal(line.rate),
                days=_decimal(line.days),
                divisor=_decimal(line.divisor),
                amount=Decimal(line.amount),
            )
            for line in item.lines
        ),
        content_hash=item.content_hash,
    )


def to_item(payment: Payment, source_file: str, now: datetime) -> PaymentItem:
    return PaymentItem(
        funder_code=payment.funder_code,
        reference=payment.reference,
        dossier_key=dossier_key(payment.funder_code, payment.dossier_number),
        dossier_number=payment.dossier_number,
        payment_date=payment.payment_date.isoformat(),
        lines=[
            PaymentLineAttribute(
                period_start=line.period_start.isoformat(),
                period_end=line.period_end.isoformat(),
                element=line.element.value,
                label=line.label,
                rate=_text(line.rate),
                days=_text(line.days),
                divisor=_text(line.divisor),
                amount=str(line.amount),
            )
            for line in payment.lines
        ],
        total=str(payment.total),
        content_hash=payment.content_hash,
        source_file=source_file,
        stored_at=now,
        notified=False,
    )


class DynamoPaymentRepository:
    def get_stored(self, funder_code: str, references: list[str]) -> dict[str, StoredPayment]:
        keys = [(funder_code, reference) for reference in dict.fromkeys(references)]
        return {
            item.reference: StoredPayment(item.content_hash, bool(item.notified))
            for item in PaymentItem.batch_get(
                keys,
                consistent_read=True,  # a reference just refused as present must be seen here
                attributes_to_get=["funder_code", "reference", "content_hash", "notified"],
            )
        }

    def get(self, funder_code: str, reference: str) -> Payment | None:
        try:
            return to_payment(PaymentItem.get(funder_code, reference))
        except PaymentItem.DoesNotExist:
            return None

    def claim_notice(self, funder_code: str, reference: str) -> str | None:
        item = PaymentItem(funder_code=funder_code, reference=reference)
        try:
            item.update(
                actions=[PaymentItem.notified.set(True)],
                condition=PaymentItem.reference.exists() & (PaymentItem.notified == False),  # noqa: E712
            )
        except UpdateError:
            return None
        return item.dossier_number

    def release_notice(self, funder_code: str, reference: str) -> None:
        PaymentItem(funder_code=funder_code, reference=reference).update(
            actions=[PaymentItem.notified.set(False)]
        )

    def mark_notice_bounced(self, funder_code: str, reference: str, at: datetime) -> bool:
        """Once per payment whose mail was handed over: the mark and the funder's count in one
        transaction. SES may publish a bounce more than once, and SQS deliver it more than once:
        the condition keeps the count exact."""

        def fill(write: TransactWrite) -> None:
            write.update(
                PaymentItem(funder_code=funder_code, reference=reference),
                actions=[PaymentItem.notice_bounced_at.set(at)],
                condition=PaymentItem.reference.exists()
                & (PaymentItem.notified == True)  # noqa: E712
                & PaymentItem.notice_bounced_at.does_not_exist(),
            )
            for item, adds in counter_updates(
                funder_code, paris_month(at), {"payment_mails_bounced": 1}
            ):
                write.update(item, actions=adds)

        return written_unless_refused(PaymentItem.Meta.region, fill)

    def write_many(self, payments: list[Payment], source_file: str) -> set[str]:
        """Stores each payment unless its reference is already stored; the references that were.

        Create-only, checked by DynamoDB item by item: a concurrent run that stored the same
        reference in between is never overwritten (its content then decides: skipped or conflict).
        """
        now = datetime.now(UTC)
        entries = [
            (to_item(payment, source_file, now), PaymentItem.reference.does_not_exist())
            for payment in payments
        ]
        present = put_if(entries, PaymentItem.Meta.region)
        return {payments[index].reference for index in present}

    def list_with_notices(
        self, funder_code: str, dossier_number: str
    ) -> list[tuple[Payment, bool, datetime | None]]:
        """The dossier's payments, newest first, each with whether its mail was handed over
        (the notifier's claim, released when the mail could not be sent) and when it was found
        not delivered."""
        return [
            (to_payment(item), bool(item.notified), item.notice_bounced_at)
            for item in PaymentItem.by_dossier.query(
                dossier_key(funder_code, dossier_number), scan_index_forward=False
            )
        ]

    def list_for_dossier(self, funder_code: str, dossier_number: str) -> list[Payment]:
        return [
            to_payment(item)
            for item in PaymentItem.by_dossier.query(
                dossier_key(funder_code, dossier_number), scan_index_forward=False
            )
        ]
