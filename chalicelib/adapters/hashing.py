"""Argon2id hashing of passwords, secret answers and challenge answers (docs/specs/security.md).

argon2 is imported on first use (docs/specs/architecture.md, D8): most requests never hash anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# OWASP's first Argon2id configuration and docs/specs/security.md's floor: 19 MiB, 2 passes, 1 lane.
MEMORY_COST_KIB = 19456
TIME_COST = 2
PARALLELISM = 1


class Argon2Hasher:
    def __init__(
        self,
        memory_cost: int = MEMORY_COST_KIB,
        time_cost: int = TIME_COST,
        parallelism: int = PARALLELISM,
    ) -> None:
        self._memory_cost = memory_cost
        self._time_cost = time_cost
        self._parallelism = parallelism
        self._hasher: PasswordHasher | None = None

    def _password_hasher(self) -> PasswordHasher:
        if self._hasher is None:
            from argon2 import PasswordHasher, Type

            self._hasher = PasswordHasher(
                time_cost=self._time_cost,
                memory_cost=self._memory_cost,
                parallelism=self._parallelism,
                type=Type.ID,
            )
        return self._hasher

    def hash(self, secret: str) -> str:
        """The encoded hash, salt and parameters included ("$argon2id$v=19$m=19456,t=2,p=1$…")."""
        return self._password_hasher().hash(secret)

    def verify(self, hashed: str, secret: str) -> bool:
        """False for a wrong secret and for a stored value that is not an Argon2 hash."""
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return self._password_hasher().verify(hashed, secret)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, hashed: str) -> bool:
        """True when the hash was made with other parameters: rehash it after a good login."""
        from argon2.exceptions import InvalidHashError

        try:
            return self._password_hasher().check_needs_rehash(hashed)
        except InvalidHashError:
            # Unreadable parameters cannot be the current ones; a new hash replaces the value.
            return True
