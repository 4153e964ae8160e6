"""The Lambda package's last touches (infra/package.py): the runtime's own libraries left out, and
bytecode that Lambda's read-only /var/task would otherwise compile at every cold start."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path

from infra.package import built_from_source, sizes, with_bytecode, without_unneeded_files

UNCHECKED_HASH_FLAGS = 0b01  # hash-based, source never checked (PEP 552)


def make_archive(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_runtime_libraries_avif_and_local_bytecode_are_left_out_and_nothing_else(
    tmp_path: Path,
) -> None:
    archive = make_archive(
        tmp_path / "deployment.zip",
        {
            "app.py": "x = 1\n",
            "botocore/__init__.py": "",
            "botocore-1.44.8.dist-info/METADATA": "",
            "boto3/__init__.py": "",
            "PIL/_avif.cpython-311-x86_64-linux-gnu.so": "",
            "pillow.libs/libavif-0b1c2ae7.so.16.4.1": "",
            "PIL/_imaging.cpython-311-x86_64-linux-gnu.so": "",
            "pynamodb/__init__.py": "",
            "chalicelib/__pycache__/__init__.cpython-311.pyc": "stale",
            "chalicelib/web/templates_bytecode/0a1b.cache": "stale",
            "botocore_stubs/__init__.py": "",
        },
    )
    without_unneeded_files(archive)
    with zipfile.ZipFile(archive) as result:
        assert sorted(result.namelist()) == [
            "PIL/_imaging.cpython-311-x86_64-linux-gnu.so",
            "app.py",
            "botocore_stubs/__init__.py",
            "pynamodb/__init__.py",
        ]


def test_the_apps_modules_get_their_unchecked_bytecode_beside_them(tmp_path: Path) -> None:
    archive = make_archive(
        tmp_path / "deployment.zip",
        {
            "app.py": "x = 1\n",
            "chalicelib/__init__.py": "",
            "chalicelib/web/page.html": "<p>",
            "chalicelib/web/templates/page.html": "<p>{{ name }}</p>",
            "jinja2/__init__.py": "",
        },
    )
    before = sizes(archive)[1]
    with_bytecode(archive)
    with zipfile.ZipFile(archive) as result:
        names = result.namelist()
        tag = sys.implementation.cache_tag
        assert f"__pycache__/app.{tag}.pyc" in names
        assert f"chalicelib/__pycache__/__init__.{tag}.pyc" in names
        assert not any(name.startswith("jinja2/__pycache__") for name in names)
        # The page template compiled, as chalicelib/web/rendering.py reads it on Lambda.
        [compiled] = [name for name in names if name.endswith(".cache")]
        assert compiled.startswith("chalicelib/web/templates_bytecode/")
        assert len(names) == len(set(names)) == 8
        header = result.read(f"__pycache__/app.{tag}.pyc")[:8]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH_FLAGS
    assert sizes(archive)[1] > before


def test_a_wheel_compiled_on_this_machine_is_named(tmp_path: Path) -> None:
    archive = make_archive(
        tmp_path / "deployment.zip",
        {
            "pillow-12.3.0.dist-info/WHEEL": "Wheel-Version: 1.0\nTag: cp311-cp311-linux_x86_64\n",
            "cffi-2.1.1.dist-info/WHEEL": (
                "Tag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\n"
            ),
            "jinja2-3.1.6.dist-info/WHEEL": "Tag: py3-none-any\n",
        },
    )
    assert built_from_source(archive) == ["pillow-12.3.0"]
