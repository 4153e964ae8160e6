"""`make bench`'s Lambda sizing: the CPU share of a memory size, and the size Chalice deploys."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.lambda_sizing import ONE_VCPU_MB, at_memory, memory_of


def test_time_scales_with_the_cpu_share_up_to_one_vcpu() -> None:
    assert at_memory(0.040, ONE_VCPU_MB) == pytest.approx(0.040)
    assert at_memory(0.040, 10_240) == pytest.approx(0.040)  # one thread uses one vCPU at most
    assert at_memory(0.040, 128) == pytest.approx(0.040 * 1769 / 128)


def test_the_memory_is_read_in_chalices_order() -> None:
    config = {
        "lambda_memory_size": 128,
        "lambda_functions": {"api_handler": {"lambda_memory_size": 1024}},
        "stages": {
            "prod": {
                "lambda_memory_size": 256,
                "lambda_functions": {"funder_files": {"lambda_memory_size": 1769}},
            }
        },
    }
    assert memory_of("funder_files", config) == 1769  # the stage's function
    assert memory_of("api_handler", config) == 1024  # the function
    assert memory_of("notifications", config) == 256  # the stage
    del config["stages"]["prod"]["lambda_memory_size"]
    assert memory_of("notifications", config) == 128  # the top level
    del config["lambda_memory_size"]
    assert memory_of("notifications", config) == 128  # Chalice's default


def test_every_function_is_sized_above_chalices_default() -> None:
    from infra.policy import FUNCTIONS

    assert all(memory_of(function) > 128 for function in FUNCTIONS)


PRINT_PEAK = "from bench.lambda_sizing import _max_rss_mib; print(_max_rss_mib())"


def test_a_fresh_process_reads_its_own_peak_memory_not_the_one_of_the_process_that_forked_it() -> (
    None
):
    ballast = bytearray(200 * 1024 * 1024)
    ballast[::4096] = b"\x01" * len(range(0, len(ballast), 4096))  # resident, not just reserved
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from bench.lambda_sizing import _max_rss_mib; print(_max_rss_mib())",
        ],
        cwd=Path(__file__).resolve().parent.parent.parent,
        capture_output=True,
        text=True,
        check=True,
    )
    del ballast
    assert float(result.stdout) < 100
