"""`make bench`'s Lambda sizing: the CPU share of a memory size, and the size Chalice deploys."""

from __future__ import annotations

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
