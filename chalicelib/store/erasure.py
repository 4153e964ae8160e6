"""Deletions of personal data (services/accounts/retention.py) in DynamoDB.

Every method reaches its items through a key or an index of the one person or dossier concerned:
nothing here scans, and every step can run again after a failure halfway.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, date, datetime

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.services.accounts.model import Account
from chalicelib.services.accounts.retention import ORPHAN_THREAD_PREFIX as ORPHAN_PREFIX
from chalicelib.services.formatting import paris_month
from chalicelib.services.messages.unread import organisation_owner, trainee_owner
from chalicelib.services.trainings.dossiers import Dossier, dossier_key
from chalicelib.store import accounts as account_claims
from chalicelib.store import franceconnect as franceconnect_claims
from chalicelib.store.conditional_writes import refusals
from chalicelib.store.dashboard import (
    DynamoDashboardCounters,
    activation_partition,
    counter_updates,
)
from chalicelib.store.dossiers import to_dossier
from chalicelib.store.funder_lookups import DynamoConsultationJournal
from chalicelib.store.messages import COUNTER_PREFIX, SUMMARY_KEY
from chalicelib.store.models import (
    AccountItem,
    DossierChangeItem,
    DossierItem,
    EmailClaimItem,
    FunderTableItem,
    MessageItem,
    MessagesTableItem,
    PaymentItem,
    SecondFactorItem,
    TermsItem,
    ThreadItem,
    UnreadCounterItem,
)
from chalicelib.store.second_factor import key as second_factor_key

# What a trainee's message names as its author once the account is closed: the message stays
# with the dossier, the account it came from is gone.
CLOSED_AUTHOR = "compte-ferme"


def orphan_owner(funder_code: str, dossier_number: str) -> str:
    """Where the threads of a closed account's dossier are filed in the by-account index: with
    the dossier (a withdrawal finds them there), and under no account."""
    return f"{ORPHAN_PREFIX}{dossier_key(funder_code, dossier_number)}"


class DynamoErasureStore:
    def unlink_dossiers(self, account_id: str) -> list[Dossier]:
        unlinked: list[Dossier] = []
        counters = DynamoDashboardCounters()
        for item in DossierItem.by_account.query(account_id):
            month = paris_month(datetime.now(UTC))
            # The activation's count first: a retry after a failure below still finds the
            # dossier by this account, and a dossier already unlinked is never found again.
            counters.uncount_activation(item.funder_code, item.dossier_number, month)
            try:
                # Only where this account still holds it: never unlinks someone else's. The
                # funder's dashboard loses the link in the same transaction.
                with TransactWrite(connection=Connection(region=DossierItem.Meta.region)) as write:
                    write.update(
                        DossierItem(
                            funder_code=item.funder_code, dossier_number=item.dossier_number
                        ),
                        actions=[DossierItem.account_id.remove()],
                        condition=DossierItem.account_id == account_id,
                    )
                    for counter, adds in counter_updates(
                        item.funder_code, month, {"linked_accounts": -1}
                    ):
                        write.update(counter, actions=adds)
            except TransactWriteError as error:
                if "ConditionalCheckFailed" in refusals(error):
                    continue
                raise
            unlinked.append(to_dossier(item).with_account(None))
        return unlinked

    def detach_messages(self, account_id: str) -> int:
        detached = 0
        for thread in ThreadItem.by_account.query(account_id):
            for message in MessageItem.query(
                thread.thread_id, MessageItem.message_key.startswith("message#")
            ):
                if message.author_account_id == account_id:
                    # Conditioned: a message deleted meanwhile must not come back as a stub.
                    with suppress(UpdateError):
                        message.update(
                            actions=[MessageItem.author_account_id.set(CLOSED_AUTHOR)],
                            condition=MessageItem.author_account_id == account_id,
                        )
            with suppress(UpdateError):
                ThreadItem(thread_id=thread.thread_id, message_key=SUMMARY_KEY).update(
                    actions=[
                        ThreadItem.account_id.set(
                            orphan_owner(thread.funder_code, thread.dossier_number)
                        ),
                        ThreadItem.unread_for_trainee.set(0),
                    ],
                    condition=ThreadItem.account_id == account_id,
                )
                detached += 1
        with UnreadCounterItem.batch_write() as batch:
            for counter in MessagesTableItem.query(
                trainee_owner(account_id), MessagesTableItem.message_key.startswith(COUNTER_PREFIX)
            ):
                batch.delete(counter)
        return detached

    def delete_terms_acceptances(self, account_id: str) -> None:
        with TermsItem.batch_write() as batch:
            for item in TermsItem.query(f"acceptance#{account_id}"):
                batch.delete(item)

    def delete_account(self, account: Account, inactivity_due: date | None = None) -> bool:
        condition = AccountItem.account_id.exists()
        if inactivity_due is not None:
            condition &= (AccountItem.inactivity_due == inactivity_due.isoformat()) & (
                AccountItem.inactivity_warned == True  # noqa: E712 - a PynamoDB condition
            )
        try:
            with TransactWrite(connection=Connection(region=AccountItem.Meta.region)) as write:
                write.delete(AccountItem(account_id=account.account_id), condition=condition)
                write.delete(
                    EmailClaimItem(account_id=account_claims.claim_key(account.email)),
                    condition=EmailClaimItem.account_id.does_not_exist()
                    | (EmailClaimItem.owner_id == account.account_id),
                )
                # The TOTP secret and recovery codes go with the account (none: nothing deleted).
                write.delete(SecondFactorItem(account_id=second_factor_key(account.account_id)))
                if account.franceconnect_sub:
                    write.delete(
                        EmailClaimItem(
                            account_id=franceconnect_claims.claim_key(account.franceconnect_sub)
                        ),
                        condition=EmailClaimItem.account_id.does_not_exist()
                        | (EmailClaimItem.owner_id == account.account_id),
                    )
        except TransactWriteError:
            return False
        return True

    def delete_dossier(self, dossier: Dossier) -> str | None:
        key = dossier_key(dossier.funder_code, dossier.dossier_number)
        with PaymentItem.batch_write() as batch:
            for payment in PaymentItem.by_dossier.query(key):
                batch.delete(
                    PaymentItem(funder_code=payment.funder_code, reference=payment.reference)
                )
        with DossierChangeItem.batch_write() as batch:
            for change in DossierChangeItem.query(key):
                batch.delete(change)
        # Who at the funder looked the dossier up: it names the dossier, it goes with it.
        DynamoConsultationJournal().delete_for_dossier(dossier.funder_code, dossier.dossier_number)
        owners = [orphan_owner(dossier.funder_code, dossier.dossier_number)]
        if dossier.account_id:
            owners.append(dossier.account_id)
        for owner in owners:
            self._delete_threads_on(owner, dossier)
        # The dossier last: until it goes, a retry of a failed run finds it and does the rest.
        held_by = self._delete_and_uncount(dossier.funder_code, dossier.dossier_number)
        if held_by is not None:
            # A thread its holder started after the sweep above (or a holder linked since the
            # read). None can start from now on: its transaction checks the dossier
            # (store/messages.py). The by-account index is eventually consistent (no strongly
            # consistent read on a GSI): a thread written within its lag before the deletion,
            # usually under a second, can still be missed.
            self._delete_threads_on(held_by, dossier)
        return held_by

    def _delete_threads_on(self, owner: str, dossier: Dossier) -> None:
        for thread in ThreadItem.by_account.query(owner):
            if (thread.funder_code, thread.dossier_number) == (
                dossier.funder_code,
                dossier.dossier_number,
            ):
                self._delete_thread(thread)

    @staticmethod
    def _delete_and_uncount(funder_code: str, dossier_number: str) -> str | None:
        """The dossier goes with its counts on the funder's dashboard (its link's if it is linked,
        its activation's if its marker is there), in one transaction conditioned on the item
        and the marker as just read: a concurrent run that deleted it first fails the condition
        and nothing is taken twice; a link or an activation counted meanwhile (« Ajouter un
        dossier », a first login) is read again and counted off with it. (Taking the activation
        off in an earlier, separate write missed one counted between that write and this one:
        the dashboard kept it for a dossier gone, tests/integration/test_removal_link_race.py.)
        Answers the account that held the dossier as it went (None: none, or gone already)."""
        key = DossierItem(funder_code=funder_code, dossier_number=dossier_number)
        marker = FunderTableItem(pk=activation_partition(funder_code), sk=dossier_number)
        for _ in range(3):
            # Both reads are conditions of the transaction below: a link or an activation that
            # lands after either refuses it, and the loop reads them again.
            counted = FunderTableItem.count(
                marker.pk, FunderTableItem.sk == dossier_number, consistent_read=True
            )
            try:
                current = DossierItem.get(funder_code, dossier_number, consistent_read=True)
            except DossierItem.DoesNotExist:
                return None  # a concurrent removal took it, and tells its owner
            linked = current.account_id
            condition = (
                DossierItem.account_id == linked
                if linked
                else DossierItem.funder_code.exists() & DossierItem.account_id.does_not_exist()
            )
            # One ADD per counter item for all three: AWS, TransactWriteItems: « no two actions
            # can target the same item » (the test of this race runs all three at once).
            decrements = {
                "dossiers": -1,
                "linked_accounts": -1 if linked else 0,
                "activated_accounts": -1 if counted else 0,
            }
            try:
                with TransactWrite(connection=Connection(region=DossierItem.Meta.region)) as write:
                    write.delete(key, condition=condition)
                    # Conditional both ways: the marker as read, there (it goes) or absent.
                    if counted:
                        write.delete(marker, condition=FunderTableItem.sk.exists())
                    else:
                        write.condition_check(
                            FunderTableItem,
                            marker.pk,
                            dossier_number,
                            condition=FunderTableItem.sk.does_not_exist(),
                        )
                    for counter, adds in counter_updates(
                        funder_code, paris_month(datetime.now(UTC)), decrements
                    ):
                        write.update(counter, actions=adds)
                return linked or None
            except TransactWriteError as error:
                if "ConditionalCheckFailed" not in refusals(error):
                    raise
        raise RuntimeError(f"dossier {funder_code}/{dossier_number} changed under three tries")

    def dossiers_ended_in(self, funder_code: str, month: str) -> list[Dossier]:
        """The funder's dossiers whose training ended in `month` ("YYYY-MM"), by the index."""
        keys = [
            (item.funder_code, item.dossier_number)
            for item in DossierItem.by_end_month.query(
                month, DossierItem.funder_code == funder_code
            )
        ]
        return [to_dossier(item) for item in DossierItem.batch_get(keys)] if keys else []

    @staticmethod
    def _delete_thread(thread: ThreadItem) -> None:
        # Messages first: if the run stops here, the summary still leads a retry to the thread.
        with MessageItem.batch_write() as batch:
            for message in MessageItem.query(
                thread.thread_id, MessageItem.message_key.startswith("message#")
            ):
                batch.delete(message)
        try:
            with TransactWrite(connection=Connection(region=ThreadItem.Meta.region)) as write:
                write.delete(
                    ThreadItem(thread_id=thread.thread_id, message_key=SUMMARY_KEY),
                    condition=ThreadItem.thread_id.exists(),
                )
                # The counters lose what this thread held unread, in the same transaction.
                unread = [
                    (organisation_owner(thread.organisation_siret), thread.unread_for_organisation)
                ]
                if not thread.account_id.startswith(ORPHAN_PREFIX):  # a closed account has none
                    unread.append((trainee_owner(thread.account_id), thread.unread_for_trainee))
                for owner, count in unread:
                    if int(count or 0) > 0:
                        write.update(
                            UnreadCounterItem(
                                thread_id=owner, message_key=f"{COUNTER_PREFIX}{thread.funder_code}"
                            ),
                            actions=[
                                UnreadCounterItem.count.add(-int(count)),
                                UnreadCounterItem.version.add(1),
                            ],
                        )
        except TransactWriteError:
            return  # gone already: a retry of a finished deletion
