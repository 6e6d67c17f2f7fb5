"""The lock and the wheel check (scripts/check-wheels.py); both ask the package index."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from conftest import ROOT


def check_wheels(tmp_path, lock_text: str, *args: str) -> subprocess.CompletedProcess:
    """scripts/check-wheels.py on a lock of these lines."""
    lock = tmp_path / "requirements.lock"
    lock.write_text(lock_text, encoding="utf-8")
    return subprocess.run([sys.executable, ROOT / "scripts" / "check-wheels.py", lock, *args],
                          capture_output=True, text=True, timeout=300, check=False)


def test_a_release_without_wheels_for_a_python_fails_the_check(tmp_path):
    run = check_wheels(tmp_path, "markdown-it-pyrs==0.4.0 \\\n    --hash=sha256:00\n", "--python", "3.12,3.13",
                       "--arch", "x86_64")
    assert run.returncode == 1, run.stderr
    assert "no wheel of markdown-it-pyrs==0.4.0 for CPython 3.13 on manylinux x86_64" in run.stderr
    assert "CPython 3.12 manylinux x86_64: 1 of 1 packages have wheels" in run.stdout
    assert "3.12 on" not in run.stderr


def test_markers_leave_out_what_a_python_does_not_install(tmp_path):
    run = check_wheels(tmp_path, "markdown-it-pyrs==0.4.0 ; python_full_version < '3.13'\n", "--python", "3.13",
                       "--arch", "aarch64")
    assert run.returncode == 0, run.stderr
    assert "CPython 3.13 manylinux aarch64: 0 of 0 packages have wheels" in run.stdout


def test_a_missing_lock_is_one_line_and_status_2(tmp_path):
    run = subprocess.run([sys.executable, ROOT / "scripts" / "check-wheels.py", tmp_path / "nope.lock"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 2
    assert run.stderr.strip() == f"check-wheels: {tmp_path / 'nope.lock'}: no such lock file"


def test_make_lock_pins_the_whole_tree_with_hashes(tmp_path):
    """README's `make lock`, as written, in a copy of the files it reads and writes (the venv is the project's)."""
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    os.utime(ROOT / ".venv" / "bin" / ".installed")  # newer than the copies: make keeps the venv
    run = subprocess.run(["make", "lock"], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "requirements.lock").read_text(encoding="utf-8")
    entries = re.split(r"\n(?=[a-z0-9])", text.strip())
    pinned = {entry.split("==")[0] for entry in entries}
    assert {"scrapy", "scrapy-splash", "pyromark", "twisted", "pymongo", "pytest"} <= pinned
    for entry in entries:
        assert re.match(r"[a-z0-9._-]+==\S+", entry) and "--hash=sha256:" in entry, entry[:200]
