"""The `test` stage's environment (local/test_stage.py), set before anything imports
chalicelib (settings validate)."""

from __future__ import annotations

import os

from local.test_stage import TEST_ENVIRONMENT

# Would send boto3 to a real account or a running emulator instead of moto in process.
_UNSAFE_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_PROFILE")


def test_stage_environment() -> dict[str, str]:
    """A copy of this process's environment with the test stage's variables in it."""
    environment = {k: v for k, v in os.environ.items() if k not in _UNSAFE_VARIABLES}
    environment.update(TEST_ENVIRONMENT)
    return environment


def apply() -> None:
    """Put this process in the test stage's environment."""
    for name in _UNSAFE_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(TEST_ENVIRONMENT)
