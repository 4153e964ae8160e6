"""Who is signed in to the funders' space (`/financeur/…`): the staff member's account and its
funder, read from the session's account, never from the request, so that a funder's staff only
ever reaches its own funder's data. (Their invitation is services/accounts/staff.py, one with
the organisations'.)"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.services.accounts.model import Account, AccountRepository, StaffRole
from chalicelib.services.errors import NotFound
from chalicelib.services.funders.lookup import CallerKind, FunderCaller
from chalicelib.services.funders.model import Funder, FunderRepository

# The same words as any unknown page: nothing tells that the account or its funder went away.
NOT_A_MEMBER = "La page que vous cherchez est introuvable. Excusez-nous pour la gêne occasionnée."


@dataclass(frozen=True)
class FunderStaffMember:
    account: Account
    funder: Funder

    @property
    def funder_code(self) -> str:
        return self.funder.code

    @property
    def role(self) -> StaffRole:
        return self.account.staff_role or StaffRole.VIEWER

    @property
    def can_manage(self) -> bool:
        return self.role is StaffRole.MANAGER

    def caller(self, client_ip: str | None) -> FunderCaller:
        """This member as « Rechercher un dossier »'s caller. The space's guard
        (web/funder_guard.py) asks for a member only once every step of the login is done, the
        TOTP code included."""
        return FunderCaller(
            funder_code=self.funder_code,
            kind=CallerKind.STAFF,
            actor_id=self.account.account_id,
            role=self.role.value,
            second_factor_done=True,
            client_ip=client_ip,
        )


class FunderStaff:
    def __init__(self, accounts: AccountRepository, funders: FunderRepository) -> None:
        self._accounts = accounts
        self._funders = funders

    def member(self, account_id: str) -> FunderStaffMember:
        """The funder staff member of this account; NotFound if it is none (any more)."""
        account = self._accounts.get(account_id)
        if account is None or account.funder_code is None:
            raise NotFound(NOT_A_MEMBER)
        funder = self._funders.get(account.funder_code)
        if funder is None:
            raise NotFound(NOT_A_MEMBER)
        return FunderStaffMember(account, funder)
