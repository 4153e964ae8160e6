"""Races for real: threads that start together against the emulator, each request atomic.

moto (in-process, `mock_aws`) answers every thread's requests, but applies one request in several
Python steps: a conditional put reads, checks, then writes, and a failed TransactWriteItems
restores a deep copy of the whole table — taken before, so it would undo another thread's write.
DynamoDB applies each request atomically. `atomic_requests` gives the emulator that property
(one request at a time, whole), and nothing more: threads still interleave between requests, which
is where the portal's read-then-write races live.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from unittest import mock


@contextlib.contextmanager
def atomic_requests() -> Iterator[None]:
    """Every emulated AWS request is handled whole before the next one starts (emulator only)."""
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    original = BotocoreStubber.__call__

    def one_at_a_time(self: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, event_name, request, **kwargs)

    with mock.patch.object(BotocoreStubber, "__call__", one_at_a_time):
        yield


def run_together(
    *actions: Callable[[], Any], delays: Sequence[float] = (), timeout: float = 30
) -> list[Any]:
    """Runs each action in its own thread, all released at once by a barrier, then each after its
    delay if given (to sweep the interleavings of a slow action and a quick one over the
    repetitions); their results in order. An action's exception is raised here, after every
    thread has finished."""
    barrier = threading.Barrier(len(actions))
    waits = list(delays) + [0.0] * (len(actions) - len(delays))
    results: list[Any] = [None] * len(actions)
    errors: list[BaseException] = []

    def run(index: int, action: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout)
            if waits[index]:
                time.sleep(waits[index])
            results[index] = action()
        except BaseException as error:  # reported to the test below, not lost in the thread
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(index, action), daemon=True)
        for index, action in enumerate(actions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if any(thread.is_alive() for thread in threads):
        raise AssertionError("a racing thread did not finish in time")
    if errors:
        raise errors[0]
    return results
