"""Accounts in DynamoDB, with the mail-address claim that keeps addresses unique."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, date, datetime

from pynamodb.attributes import UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.services.accounts.model import Account, AccountKind, CreateOutcome, StaffRole
from chalicelib.services.accounts.retention import inactivity_due
from chalicelib.services.formatting import paris_month
from chalicelib.services.mail.delivery import DeliveryStatus
from chalicelib.store.conditional_writes import refusals, written_unless_refused
from chalicelib.store.dashboard import counter_updates
from chalicelib.store.models import AccountItem, DossierItem, EmailClaimItem


def claim_key(email: str) -> str:
    return f"email#{email}"


def to_account(item: AccountItem) -> Account:
    return Account(
        account_id=item.account_id,
        kind=AccountKind(item.kind),
        email=item.email or "",
        family_name=item.family_name,
        given_names=item.given_names,
        birth_date=date.fromisoformat(item.birth_date) if item.birth_date else None,
        created_at=item.created_at,
        password_hash=item.password_hash,
        temporary_password_hash=item.temporary_password_hash,
        temporary_password_expires_at=item.temporary_password_expires_at,
        temporary_password_used=bool(item.temporary_password_used),
        secret_question=item.secret_question,
        secret_answer_hash=item.secret_answer_hash,
        terms_version=item.terms_version,
        awaiting_dossier=bool(item.awaiting_dossier),
        phone=item.phone,
        franceconnect_sub=item.franceconnect_sub,
        organisation_siret=item.organisation_siret,
        organisation_name=item.organisation_name,
        inactivity_due=date.fromisoformat(item.inactivity_due) if item.inactivity_due else None,
        inactivity_warned=bool(item.inactivity_warned),
        funder_code=item.funder_code,
        staff_role=StaffRole(item.staff_role) if item.staff_role else None,
        totp_enabled=bool(item.totp_enabled),
    )


def _inactivity_due(account: Account) -> str | None:
    """A trainee account is due from its creation on: one that never logs in is reached too."""
    if account.kind is not AccountKind.TRAINEE:
        return None
    return (account.inactivity_due or inactivity_due(account.created_at.date())).isoformat()


def to_item(account: Account) -> AccountItem:
    return AccountItem(
        account_id=account.account_id,
        kind=account.kind.value,
        email=account.email,
        family_name=account.family_name,
        given_names=account.given_names,
        birth_date=account.birth_date.isoformat() if account.birth_date else None,
        created_at=account.created_at,
        password_hash=account.password_hash,
        temporary_password_hash=account.temporary_password_hash,
        temporary_password_expires_at=account.temporary_password_expires_at,
        temporary_password_used=account.temporary_password_used,
        secret_question=account.secret_question,
        secret_answer_hash=account.secret_answer_hash,
        terms_version=account.terms_version,
        awaiting_dossier=account.awaiting_dossier,
        phone=account.phone,
        franceconnect_sub=account.franceconnect_sub,
        organisation_siret=account.organisation_siret,
        organisation_name=account.organisation_name,
        inactivity_due=_inactivity_due(account),
        inactivity_warned=account.inactivity_warned or None,
        funder_code=account.funder_code,
        staff_role=account.staff_role.value if account.staff_role else None,
        totp_enabled=account.totp_enabled or None,
    )


NO_ACCOUNT_ID = "aucun-compte"


class DynamoAccountRepository:
    def get(self, account_id: str) -> Account | None:
        if account_id.startswith(("email#", "second-factor#")):  # other items of the table
            return None
        try:
            return to_account(AccountItem.get(account_id))
        except DoesNotExist:
            return None

    def find_by_email(self, email: str) -> Account | None:
        try:
            claim = EmailClaimItem.get(claim_key(email))
        except DoesNotExist:
            # The second read a known address makes, made all the same: a login or a sign-up
            # must not tell by its time whether an address has an account (no id has this form).
            self.get(NO_ACCOUNT_ID)
            return None
        return self.get(claim.owner_id)

    def create(
        self, account: Account, link_dossier: tuple[str, str] | None = None
    ) -> CreateOutcome:
        connection = Connection(region=AccountItem.Meta.region)
        try:
            with TransactWrite(connection=connection) as transaction:
                transaction.save(
                    EmailClaimItem(
                        account_id=claim_key(account.email), owner_id=account.account_id
                    ),
                    condition=EmailClaimItem.account_id.does_not_exist(),
                )
                transaction.save(
                    to_item(account), condition=AccountItem.account_id.does_not_exist()
                )
                if link_dossier is not None:
                    funder_code, dossier_number = link_dossier
                    transaction.update(
                        DossierItem(funder_code=funder_code, dossier_number=dossier_number),
                        actions=[DossierItem.account_id.set(account.account_id)],
                        condition=DossierItem.dossier_number.exists()
                        & DossierItem.account_id.does_not_exist(),
                    )
                    # The funder's dashboard counts the link in the same transaction.
                    for item, adds in counter_updates(
                        funder_code, paris_month(datetime.now(UTC)), {"linked_accounts": 1}
                    ):
                        transaction.update(item, actions=adds)
        except TransactWriteError as error:
            reasons = refusals(error)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return CreateOutcome.EMAIL_TAKEN
            if "ConditionalCheckFailed" in reasons[2:]:
                return CreateOutcome.DOSSIER_TAKEN
            # Throttled, failing or conflicting: nothing was written; not an answer to give.
            raise
        return CreateOutcome.CREATED

    def find_awaiting_by_emails(self, emails: list[str]) -> dict[str, Account]:
        """Accounts still waiting for their first dossier, by mail address (batched reads)."""
        claims = list(EmailClaimItem.batch_get([claim_key(email) for email in emails]))
        if not claims:
            return {}
        items = AccountItem.batch_get([claim.owner_id for claim in claims])
        return {
            account.email: account for account in map(to_account, items) if account.awaiting_dossier
        }

    def save(self, account: Account) -> None:
        to_item(account).save()

    def change_email(self, account: Account, new_email: str) -> bool:
        """Moves the account and its address claim to `new_email` all at once; False when that
        address has an account (or the account's address changed meanwhile)."""

        def fill(transaction: TransactWrite) -> None:
            transaction.delete(
                EmailClaimItem(account_id=claim_key(account.email)),
                condition=EmailClaimItem.owner_id == account.account_id,
            )
            transaction.save(
                EmailClaimItem(account_id=claim_key(new_email), owner_id=account.account_id),
                condition=EmailClaimItem.account_id.does_not_exist(),
            )
            transaction.update(
                AccountItem(account_id=account.account_id),
                actions=[AccountItem.email.set(new_email)],
                condition=AccountItem.email == account.email,
            )

        # Throttled or failing: raised, nothing was written, and the address may be free.
        return written_unless_refused(AccountItem.Meta.region, fill)

    # SES's feedback on an address -------------------------------------------------------------

    def delivery_status(self, email: str) -> DeliveryStatus | None:
        try:
            claim = EmailClaimItem.get(claim_key(email))
        except DoesNotExist:
            return None
        return DeliveryStatus(bounced_at=claim.bounced_at, complained_at=claim.complained_at)

    def mark_bounced(self, email: str, at: datetime) -> str | None:
        return self._mark(email, EmailClaimItem.bounced_at, at)

    def mark_complained(self, email: str, at: datetime) -> str | None:
        return self._mark(email, EmailClaimItem.complained_at, at)

    @staticmethod
    def _mark(email: str, attribute: UTCDateTimeAttribute, at: datetime) -> str | None:
        """One conditional update: only an existing claim (an account's address), and only once,
        so that SQS's redelivery of the same event changes nothing and is not audited twice."""
        claim = EmailClaimItem(account_id=claim_key(email))
        try:
            claim.update(
                actions=[attribute.set(at)],
                condition=EmailClaimItem.owner_id.exists() & attribute.does_not_exist(),
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        return claim.owner_id

    # Retention (services/accounts/retention.py) ---------------------------------------------------

    def record_login(self, account_id: str, inactivity_due: date) -> None:
        """One UpdateItem: a login after the warning cancels it, whatever the job does at once
        (the job's own updates are conditioned on the due day they read)."""
        with suppress(UpdateError):  # closed meanwhile: nothing to move
            AccountItem(account_id=account_id).update(
                actions=[
                    AccountItem.inactivity_due.set(inactivity_due.isoformat()),
                    AccountItem.inactivity_warned.remove(),
                ],
                condition=AccountItem.account_id.exists(),
            )

    def due_on(self, day: date) -> list[str]:
        return [item.account_id for item in AccountItem.by_inactivity_due.query(day.isoformat())]

    def mark_warned(self, account_id: str, due: date, closing_on: date) -> bool:
        try:
            AccountItem(account_id=account_id).update(
                actions=[
                    AccountItem.inactivity_due.set(closing_on.isoformat()),
                    AccountItem.inactivity_warned.set(True),
                ],
                condition=(AccountItem.inactivity_due == due.isoformat())
                & AccountItem.inactivity_warned.does_not_exist(),
            )
        except UpdateError:
            return False
        return True
