"""Every command README.md and docs/ show, run as written (in a copy of the project folder, against a replica).

Commands are the indented code lines outside fenced blocks. Servers they start (the replica, `finews serve`)
run in the background for the others; three `make` targets are run elsewhere and the test checks that they
are (ELSEWHERE). The environment points the site at the replica the docs' own replica command serves, as an
operator's would point it at the live site.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# Run elsewhere, and where: `make test` is this suite (CI's command), `make check-wheels` asks the package
# index (CI's step after it), `make lock` is run as written by a test in a copy of the files it rewrites.
ELSEWHERE = {
    "make test": (ROOT / ".ci" / "run", "make test"),
    "make check-wheels": (ROOT / ".ci" / "run", "make check-wheels"),
    "make lock": (ROOT / "tests" / "test_dependencies.py", "def test_make_lock_pins_the_whole_tree_with_hashes"),
}
BACKGROUND = ("finews serve", "python -m finews.replica")  # anywhere in the line (.venv/bin/finews serve)
LINKED = (".venv", ".secantus", ".splash", "scripts", "tests", "benchmarks", "Makefile", "pyproject.toml",
          "requirements.lock", "scrapy.cfg")


def shown_commands() -> list[tuple[str, str]]:
    """(page, command) for every indented code line outside fenced blocks, its trailing comment cut."""
    found = []
    for page in DOCS:
        fenced = False
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.startswith("```"):
                fenced = not fenced
            elif not fenced and line.startswith("    ") and line.strip() and not line.lstrip().startswith("#"):
                found.append((page.name, re.split(r"\s+#\s", line.strip(), maxsplit=1)[0]))
    return found


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)


def _free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_every_shown_command_is_known():
    commands = [command for _, command in shown_commands()]
    assert len(commands) >= 35, commands
    for command, (where, text) in ELSEWHERE.items():
        assert command in commands and text in where.read_text(encoding="utf-8"), command


def test_every_command_the_docs_show_runs_as_written(tmp_path):
    work = tmp_path / "finews"
    work.mkdir()
    for name in LINKED:
        if (ROOT / name).exists():
            (work / name).symlink_to(ROOT / name)
    (work / "codes.txt").write_text("NW202204012331570959\nNW202112082206672930\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FINEWS_", "MONGO_URI", "SPLASH_URL"))}
    env.update(PATH=f"{work / '.venv' / 'bin'}:{env.get('PATH', '')}", FINEWS_BASE_URL="http://127.0.0.1:8000/",
               FINEWS_SHARE_BASE_URL="http://127.0.0.1:8000/", FINEWS_MONGO_FLUSH_SECONDS="0.3")
    commands = shown_commands()
    shown = [command for _, command in commands]
    for port in (8000, 27018, 6379):
        assert _free(port), f"port {port}, which the docs' commands use, is taken"
    background = []
    redis = subprocess.Popen(["redis-server", "--port", "6379", "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for page, command in commands:
            if any(server in command for server in BACKGROUND):
                process = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=work, env=env, text=True,
                                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                background.append(process)
                said = [process.stdout.readline() for _ in range(1)]
                while said[-1] and not said[-1].startswith(("http://", "mongodb://")) and len(said) < 20:
                    said.append(process.stdout.readline())  # log lines first; then the URL it serves
                assert said[-1].startswith(("http://", "mongodb://")), f"{page}: {command}: {''.join(said)}"
        _wait_for_port(6379)
        failures = []
        for page, command in commands:
            if any(server in command for server in BACKGROUND) or command in ELSEWHERE:
                continue
            if command.startswith("*/5 "):  # the crontab line: run by the test below, on a fresh checkout
                continue
            line = command
            started = time.monotonic()
            run = subprocess.run(["bash", "-c", line], cwd=work, env=env, capture_output=True, text=True,
                                 timeout=300, check=False)
            print(f"{time.monotonic() - started:5.1f}s exit {run.returncode}: {line}", flush=True)
            if run.returncode != 0:
                failures.append(f"{page}: {command}: exit {run.returncode}\n{run.stdout[-800:]}{run.stderr[-1500:]}")
        for block in python_blocks(ROOT / "docs" / "operations.md"):
            run = subprocess.run([sys.executable, "-c", block], cwd=work, env=env, capture_output=True, text=True,
                                 timeout=120, check=False)
            if run.returncode != 0 or not run.stdout:
                failures.append(f"operations.md python block: {run.stdout}{run.stderr[-1500:]}")
        assert not failures, "\n\n".join(failures)
    finally:
        for process in background:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        redis.terminate()
        redis.wait()
    assert "scripts/crawl" in shown and ".venv/bin/finews status" in shown
    assert (work / "output" / "may.jsonl").exists() and list((work / "output" / "posts" / "_posts").glob("*.md"))


def test_the_cron_line_runs_on_a_fresh_checkout_under_crons_environment(replica, tmp_path):
    """The crontab line of docs/operations.md, as written (its project folder replaced), in the files git
    tracks and nothing else (no .venv, no output/), under cron's environment: `env -i` with cron's PATH and
    the crontab's own variables. Its redirect into output/ failed in the shell before: cron ran nothing."""
    lines = [command for _, command in shown_commands() if command.startswith("*/5 ")]
    assert len(lines) == 1, lines
    work = tmp_path / "finews"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_bytes((ROOT / name).read_bytes())
            (work / name).chmod((ROOT / name).stat().st_mode)
    line = lines[0].split(None, 5)[5].replace("/srv/finews", str(work))
    crontab = {"PATH": "/usr/bin:/bin", "SHELL": "/bin/sh", "HOME": str(tmp_path), "LOGNAME": "finews",
               "FINEWS_BASE_URL": replica.url, "FINEWS_SHARE_BASE_URL": replica.url}
    run = subprocess.run(["env", "-i", *(f"{k}={v}" for k, v in crontab.items()), "/bin/sh", "-c", line],
                         cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert run.stdout == "" and "Traceback" not in run.stderr, run.stderr[-3000:]
    log = (work / "output" / "finews.log").read_text(encoding="utf-8")
    assert "finews crawl finews: exit 0 (done); new=" in log and "new=0 " not in log, log[-2000:]


def _wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while _free(port):
        if time.monotonic() > deadline:
            pytest.fail(f"nothing answers on port {port}")
        time.sleep(0.1)
