"""Password hashing: one Argon2id hash at the parameters of docs/specs/security.md (m = 19 MiB,
t = 2, p = 1).

Budget (docs/specs/performance.md): report the time. Median of 7 hashes after one discarded.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

from bench.figures import Figure, Line

MEMORY_KIB = 19 * 1024  # 19 MiB
TIME_COST = 2
PARALLELISM = 1
HASHES = 7


def figures() -> Iterator[Line]:
    from argon2 import PasswordHasher, Type

    hasher = PasswordHasher(
        time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM, type=Type.ID
    )
    encoded = hasher.hash("mot de passe du banc d'essai")
    expected = f"$argon2id$v=19$m={MEMORY_KIB},t={TIME_COST},p={PARALLELISM}$"
    if not encoded.startswith(expected):
        raise AssertionError(f"unexpected parameters: {encoded[: len(expected)]}")
    times: list[float] = []
    for attempt in range(HASHES):
        started = time.perf_counter()
        hasher.hash(f"mot de passe n° {attempt}")
        times.append(time.perf_counter() - started)
    yield Figure(
        f"Argon2id hash, m=19 MiB t={TIME_COST} p={PARALLELISM}, median of {HASHES}",
        statistics.median(times) * 1000,
        "ms",
        decimals=1,
    )
