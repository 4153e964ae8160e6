"""The Lambda package's last touches (infra/package.py): the runtime's own libraries left out, and
bytecode that Lambda's read-only /var/task would otherwise compile at every cold start."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path

from infra.package import sizes, with_bytecode, without_runtime_libraries

UNCHECKED_HASH_FLAGS = 0b01  # hash-based, source never checked (PEP 552)


def make_archive(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_the_runtime_libraries_are_left_out_and_nothing_else(tmp_path: Path) -> None:
    archive = make_archive(
        tmp_path / "deployment.zip",
        {
            "app.py": "x = 1\n",
            "botocore/__init__.py": "",
            "botocore-1.44.8.dist-info/METADATA": "",
            "boto3/__init__.py": "",
            "pynamodb/__init__.py": "",
            "botocore_stubs/__init__.py": "",
        },
    )
    without_runtime_libraries(archive)
    with zipfile.ZipFile(archive) as result:
        assert sorted(result.namelist()) == [
            "app.py",
            "botocore_stubs/__init__.py",
            "pynamodb/__init__.py",
        ]


def test_every_module_gets_its_unchecked_bytecode_beside_it(tmp_path: Path) -> None:
    archive = make_archive(
        tmp_path / "deployment.zip",
        {"app.py": "x = 1\n", "chalicelib/__init__.py": "", "chalicelib/web/page.html": "<p>"},
    )
    before = sizes(archive)[1]
    with_bytecode(archive)
    with zipfile.ZipFile(archive) as result:
        names = result.namelist()
        tag = sys.implementation.cache_tag
        assert f"__pycache__/app.{tag}.pyc" in names
        assert f"chalicelib/__pycache__/__init__.{tag}.pyc" in names
        assert len(names) == len(set(names)) == 5
        header = result.read(f"__pycache__/app.{tag}.pyc")[:8]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH_FLAGS
    assert sizes(archive)[1] > before
