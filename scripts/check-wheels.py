#!/usr/bin/env python3
"""Every package the lock names must install from a wheel on each CPython finews supports.

    python scripts/check-wheels.py [requirements.lock] [--python 3.11,3.12,3.13,3.14]
                                   [--arch x86_64,aarch64]

For each Python version and architecture (manylinux: glibc 2.28 and its older tags) it asks pip,
through the package index as configured and nothing else, for a wheel of every package the lock pins
whose environment marker holds there (a pure-Python wheel counts). A package without one would need a
compiler or a Rust toolchain on that Python: the check fails and names the package, the Python version
and the architecture. Exit 0: every one has a wheel.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement

PYTHONS = ("3.11", "3.12", "3.13", "3.14")
# glibc 2.28 (Debian 10, Ubuntu 20.04, RHEL 8) and later; pip also takes the older manylinux tags for it.
ARCHES = ("x86_64", "aarch64")
GLIBC_MINOR = 28
# pip takes --platform tags literally: a manylinux_2_28 machine also runs the older manylinux wheels.
_LEGACY = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}


def platform_tags(arch: str, glibc_minor: int = GLIBC_MINOR) -> list[str]:
    """Every manylinux tag a machine with glibc 2.<glibc_minor> on ``arch`` installs (oldest x86_64 tag: 2.5)."""
    oldest = 5 if arch == "x86_64" else 17
    tags = []
    for minor in range(glibc_minor, oldest - 1, -1):
        tags.append(f"manylinux_2_{minor}_{arch}")
        if minor in _LEGACY:
            tags.append(f"{_LEGACY[minor]}_{arch}")
    return tags
_NO_MATCH = re.compile(r"No matching distribution found for (\S+)")


def locked(lock: Path) -> list[Requirement]:
    """The pinned requirements of a pip-style lock (hash lines and comments skipped)."""
    text = lock.read_text(encoding="utf-8").replace("\\\n", " ")
    found = []
    for raw in text.splitlines():
        line = re.sub(r"\s--hash=\S+", "", raw.split("#", 1)[0]).strip()
        if line and not line.startswith("-"):
            found.append(Requirement(line))
    return found


def environment(python: str, arch: str) -> dict[str, str]:
    return {
        "python_version": python, "python_full_version": f"{python}.0", "implementation_name": "cpython",
        "platform_python_implementation": "CPython", "sys_platform": "linux", "os_name": "posix",
        "platform_system": "Linux", "platform_machine": arch,
    }


def wanted(requirements: list[Requirement], python: str, arch: str) -> list[str]:
    env = environment(python, arch)
    return [f"{r.name}{r.specifier}" for r in requirements
            if r.marker is None or Marker(str(r.marker)).evaluate(env)]


def missing_wheels(specs: list[str], python: str, arch: str, pip: list[str]) -> list[str]:
    """The specs pip finds no wheel for; one pip run for all, again without each one it names."""
    missing: list[str] = []
    left = list(specs)
    with tempfile.TemporaryDirectory() as folder:
        while left:
            run = subprocess.run(
                [*pip, "download", "--quiet", "--no-deps", "--only-binary=:all:", "--python-version", python,
                 *(f"--platform={tag}" for tag in platform_tags(arch)), "--dest", folder, *left],
                capture_output=True, text=True, check=False)
            if run.returncode == 0:
                break
            match = _NO_MATCH.search(run.stderr)
            if match is None:
                raise RuntimeError(f"pip download failed on {python} {arch}: {run.stderr.strip()[-500:]}")
            name = Requirement(match[1]).name.lower()
            spec = next((s for s in left if Requirement(s).name.lower() == name), None)
            if spec is None:
                raise RuntimeError(f"pip named {match[1]}, which the lock does not pin")
            missing.append(spec)
            left.remove(spec)
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lock", nargs="?", default="requirements.lock", type=Path)
    parser.add_argument("--python", default=",".join(PYTHONS))
    parser.add_argument("--arch", default=",".join(ARCHES))
    args = parser.parse_args(argv)
    if not args.lock.is_file():
        print(f"check-wheels: {args.lock}: no such lock file", file=sys.stderr)
        return 2
    requirements = locked(args.lock)
    pip = [sys.executable, "-m", "pip"]
    failures = 0
    for python in args.python.split(","):
        for arch in args.arch.split(","):
            specs = wanted(requirements, python, arch)
            missing = missing_wheels(specs, python, arch, pip)
            for spec in missing:
                print(f"check-wheels: no wheel of {spec} for CPython {python} on manylinux {arch}", file=sys.stderr)
            failures += len(missing)
            have = len(specs) - len(missing)
            print(f"CPython {python} manylinux {arch}: {have} of {len(specs)} packages have wheels")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
