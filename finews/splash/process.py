"""Run a local Splash server (the launcher in Splash's own virtual environment), for tests and benchmarks.

    python -m finews.splash.process --port 8050      # serves until interrupted
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from finews.processes import stop_process
from finews.storage.embedded import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).resolve().parent / "launcher.py"


class SplashError(RuntimeError):
    pass


def splash_python() -> str:
    python = os.environ.get("FINEWS_SPLASH_PYTHON") or str(PROJECT_ROOT / ".splash" / "venv" / "bin" / "python")
    if not Path(python).exists():
        raise SplashError(f"no Splash environment at {python}: run scripts/install-splash.sh")
    return python


class SplashProcess:
    def __init__(self, port: int = 0, *, max_timeout: int = 90, log_path: str | Path | None = None) -> None:
        self.port = port or free_port()
        self.max_timeout = max_timeout
        self.log_path = Path(log_path) if log_path else Path(tempfile.mkdtemp(prefix="splash-")) / "splash.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> SplashProcess:
        runtime = Path(tempfile.mkdtemp(prefix="splash-runtime-"))
        runtime.chmod(0o700)
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")}
        env.update(QTWEBENGINE_DISABLE_SANDBOX="1", XDG_RUNTIME_DIR=str(runtime))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [splash_python(), str(LAUNCHER), "--port", str(self.port), "-i", "127.0.0.1",
                 "--max-timeout", str(self.max_timeout)],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while not self.alive():
            if self.process.poll() is not None:
                raise SplashError(f"Splash exited with {self.process.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                self.stop()
                raise SplashError(f"Splash did not answer /_ping within {timeout:.0f} s; see {self.log_path}")
            time.sleep(0.2)
        return self

    def alive(self) -> bool:
        return self.ping() is not None

    def ping(self) -> dict | None:
        try:
            with urllib.request.urlopen(self.url + "/_ping", timeout=2) as response:
                return json.loads(response.read())
        except (OSError, ValueError, urllib.error.URLError):
            return None

    def ensure(self) -> SplashProcess:
        """Restart Splash if it stopped answering (it can crash under heavy load)."""
        if not self.alive():
            self.stop()
            self.start()
        return self

    def stop(self) -> None:
        """SIGTERM, so Splash stops its Xvfb too (SIGKILL would leave it behind)."""
        if self.process is None:
            return
        stop_process(self.process, 20, whole_group=True)
        with contextlib.suppress(ProcessLookupError):  # whatever of its session outlived it (Xvfb)
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process = None

    def __enter__(self) -> SplashProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m finews.splash.process", description=__doc__)
    parser.add_argument("--port", type=int, default=8050)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # stopped like a service: Splash and its Xvfb go too
    with SplashProcess(args.port) as splash:
        print(splash.url, flush=True)
        try:
            splash.process.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
