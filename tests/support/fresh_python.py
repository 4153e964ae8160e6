"""A fresh interpreter of the project under the `test` stage's settings: what a cold Lambda
loads and does, which this test process (that has imported everything already) cannot show."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from local.background import child_environment
from local.test_stage import TEST_ENVIRONMENT

REPOSITORY = Path(__file__).resolve().parents[2]


def run_fresh_python(*arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`python <arguments>` at the repository's root; its output as text."""
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=REPOSITORY,
        env=child_environment(TEST_ENVIRONMENT),
        capture_output=True,
        text=True,
        check=check,
    )
