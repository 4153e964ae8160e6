"""Links a dossier to the account created with « Je ne possède pas encore de dossier » once a
funder file brings that person's identity and mail address (docs/specs/funder-files.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from chalicelib.services.accounts.identity import identity_key, normalise_email
from chalicelib.services.accounts.model import Account, AuditLog, PortalUrls
from chalicelib.services.mail.mails import Mailer, dossier_linked_mail
from chalicelib.services.trainings.dossiers import Dossier

if TYPE_CHECKING:
    from chalicelib.services.funders.activations import AccountActivations


class AwaitingAccounts(Protocol):
    def find_awaiting_by_emails(self, emails: list[str]) -> dict[str, Account]: ...

    def save(self, account: Account) -> None: ...


class AccountLinker:
    def __init__(
        self,
        accounts: AwaitingAccounts,
        mailer: Mailer,
        audit: AuditLog,
        urls: PortalUrls,
        activations: AccountActivations | None = None,
    ) -> None:
        self._accounts = accounts
        self._activations = activations
        self._mailer = mailer
        self._audit = audit
        self._urls = urls

    def attach(
        self, dossiers: list[Dossier]
    ) -> tuple[list[Dossier], list[tuple[Account, Dossier]]]:
        """The dossiers with their account set where one awaits them, and the new links."""
        candidates = [d for d in dossiers if d.account_id is None and d.email]
        if not candidates:
            return dossiers, []
        awaiting = self._accounts.find_awaiting_by_emails(
            sorted({normalise_email(d.email or "") for d in candidates})
        )
        links: list[tuple[Account, Dossier]] = []
        result: list[Dossier] = []
        for dossier in dossiers:
            account = awaiting.get(normalise_email(dossier.email or "")) if dossier.email else None
            if (
                dossier.account_id is None
                and account is not None
                and account.birth_date is not None
                and identity_key(account.family_name, account.given_names, account.birth_date)
                == dossier.identity_key
            ):
                dossier = dossier.with_account(account.account_id)
                links.append((account, dossier))
                del awaiting[account.email]  # one dossier links; others the trainee adds
            result.append(dossier)
        return result, links

    def confirm(self, links: list[tuple[Account, Dossier]]) -> None:
        """Once the dossiers are stored: the accounts stop waiting and their owners are told."""
        for account, dossier in links:
            self._accounts.save(account.updated(awaiting_dossier=False))
            if self._activations is not None:
                self._activations.dossier_linked(
                    account, dossier.funder_code, dossier.dossier_number
                )
            self._audit.record(
                account.account_id,
                "dossier-linked",
                None,
                {"funder": dossier.funder_code, "dossier": dossier.dossier_number},
            )
            self._mailer.send(
                dossier_linked_mail(
                    to=account.email,
                    given_name=account.first_given_name,
                    training_title=dossier.training_title,
                    login_url=self._urls.funder_home(dossier.funder_code),
                    portal_url=self._urls.base_url,
                )
            )
