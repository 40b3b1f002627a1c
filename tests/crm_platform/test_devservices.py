"""`make run`'s supervisor: embedded services, web, worker and beat, all stopped by Ctrl-C."""

import os
import signal
import subprocess
import sys
import time
import urllib.request

import psutil

from tests.conftest import ROOT, _free_port


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except OSError:
        return 0


def test_stack_starts_everything_and_ctrl_c_stops_everything(tmp_path):
    port = _free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CRM_TESTING")
    }
    env.update(CRM_DATA_DIR=str(tmp_path / "data"), PORT=str(port))
    log = tmp_path / "stack.log"
    with log.open("w") as out:
        stack = subprocess.Popen(
            [sys.executable, "-m", "crm_platform.devservices", "stack"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while (
            "Press Ctrl-C" not in log.read_text() or _get(f"http://127.0.0.1:{port}/healthz") != 200
        ):
            assert stack.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        text = log.read_text()
        assert f"http://localhost:{port}/" in text
        assert f"http://demo.localhost:{port}/" in text and "owner@demo.example.com" in text
        started = psutil.Process(stack.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in started)
        for expected in ("runserver", "worker", "beat", "redis-server"):
            assert expected in names, names
        postgres = [
            p
            for p in psutil.process_iter(["cmdline"])
            if str(tmp_path) in " ".join(p.info["cmdline"] or ())
            and "postgres" in " ".join(p.info["cmdline"] or ())
        ]
        assert postgres, "embedded PostgreSQL is not running"
        # Ctrl-C in a terminal: SIGINT to the whole foreground process group.
        os.killpg(stack.pid, signal.SIGINT)
        assert stack.wait(60) == 0
        gone, alive = psutil.wait_procs(started + postgres, timeout=20)
        assert not alive, [" ".join(p.cmdline()) for p in alive]
    finally:
        if stack.poll() is None:
            os.killpg(stack.pid, signal.SIGKILL)
