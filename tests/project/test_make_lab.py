"""`make lab` starts a JupyterLab server as root and headless, with flags passed through LAB_ARGS."""

from __future__ import annotations

import shlex
import socket
import subprocess
import time
import urllib.request

import pytest

from analysis.config import PROJECT_ROOT

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_when_make_lab_runs_headless_with_lab_args_then_the_server_answers():
    port = free_port()
    lab_args = f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token=''"
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "lab", f"LAB_ARGS={lab_args}"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    command = shlex.split(dry_run.stdout.strip().splitlines()[-1])
    assert command[:2] == [".venv/bin/jupyter", "lab"] and f"--port={port}" in command
    server = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        status = None
        for _ in range(120):
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited with {server.returncode}: {server.stderr.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2) as response:
                    status = response.status
                    break
            except OSError:
                time.sleep(0.5)
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
