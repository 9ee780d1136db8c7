"""Report kernels forked from a server that has imported the analysis stack's libraries once per run.

Every report runs in a new kernel process, and each used to import ipykernel, pandas, Ibis, SciPy, statsmodels,
matplotlib and pandera itself: 1.5-2 s of CPU per report (more than the analysis of a market on the demo data),
paid again by every one of a run's ~45 reports. A run now starts one fork server (``kernel_fork_main.py serve``)
that imports those libraries, and each report's kernel is a fork of it:

- jupyter_client starts a small stub (``kernel_fork_main.py stub``, standard library only) in place of the kernel
  command; the stub hands the server its standard streams, environment, working directory and the kernel's
  arguments, relays signals (interrupts) and exits with the kernel's status;
- the forked child becomes the kernel as ``python -m ipykernel_launcher`` would, with the report's environment;
- the server never runs report code, and each report has its own process, so no variable, module change or open
  connection of one report reaches the next (``tests/pipeline/test_kernel_forks.py`` proves it, and that a forked
  kernel is configured as a kernel started from scratch: backend, rcParams, options, paths, random seeds);
- the kernel ends without the interpreter's teardown: its report is written by then.

Nothing depends on the server: without one (Windows; macOS unless ``WORKBOOK_FORK_KERNELS=1``;
``WORKBOOK_FORK_KERNELS=0``; a kernel spec that is not this interpreter's ipykernel) kernels start as before, and a
stub that finds no server becomes the kernel command itself.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FORK_SETTING = "WORKBOOK_FORK_KERNELS"  # see forking_enabled()
SCRIPT = Path(__file__).with_name("kernel_fork_main.py")
LAUNCHER = "ipykernel_launcher"
STOP_SECONDS = 5.0
PYTHON_NAMES = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}


@dataclass(frozen=True)
class ForkServer:
    """A running fork server: its socket ``address`` and the interpreter command (``prefix``) its kernels share."""

    address: str
    prefix: tuple[str, ...]
    process: subprocess.Popen


_server: ForkServer | None = None  # the run's server; worker processes, forked from the run, inherit it


def forking_enabled() -> bool:
    """Whether runs fork their kernels: on Linux unless ``WORKBOOK_FORK_KERNELS`` says 0, false or no; on macOS and
    other POSIX systems only when it says 1, true or yes (macOS system libraries are not all safe to use after a fork,
    which is why Python's multiprocessing stopped forking there); never on Windows."""
    setting = os.environ.get(FORK_SETTING, "").strip().lower()
    if os.name != "posix" or sys.platform == "cygwin" or setting in {"0", "false", "no"}:
        return False
    return sys.platform.startswith("linux") or setting in {"1", "true", "yes"}


def kernel_prefix(kernel_name: str) -> tuple[str, ...] | None:
    """The interpreter and its options in ``kernel_name``'s spec (what precedes ``-m ipykernel_launcher``), with
    ``python`` resolved as jupyter_client resolves it; None if the spec does not run ipykernel that way."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = list(KernelSpecManager().get_kernel_spec(kernel_name).argv)
    except NoSuchKernel:
        return None
    if argv and argv[0] in PYTHON_NAMES:
        argv[0] = sys.executable
    return _prefix_of(argv)


def _prefix_of(command: list[str]) -> tuple[str, ...] | None:
    if LAUNCHER not in command:
        return None
    launcher = command.index(LAUNCHER)
    return tuple(command[: launcher - 1]) if launcher >= 2 and command[launcher - 1] == "-m" else None


@contextlib.contextmanager
def fork_server(kernel_name: str) -> Iterator[ForkServer | None]:
    """Run a fork server for ``kernel_name``'s kernels inside the block (None when forking is off or impossible).

    Kernels started by :class:`~analysis.pipeline.kernels.ReportKernelManager` in this process or in processes
    forked from it inside the block are forked from the server. The server is stopped when the block ends (it also
    ends by itself when this process does).
    """
    global _server
    prefix = kernel_prefix(kernel_name) if forking_enabled() else None
    if prefix is None:
        yield None
        return
    address = os.path.join(tempfile.gettempdir(), f"wbk-fork-{secrets.token_hex(6)}")
    environment = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}  # as the workers set it for their kernels
    process = subprocess.Popen(
        [*prefix, str(SCRIPT), "serve", address],
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C of the run reaches the run, which stops the server in its own time
    )
    _server = ForkServer(address, prefix, process)
    try:
        _wait_until_listening(address, process)
        yield _server
    finally:
        _server = None
        _stop(process)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(address)


def stub_command(command: list[str]) -> list[str]:
    """``command`` (a kernel command) started through the run's fork server, or ``command`` itself when there is no
    server or the command is not the server's interpreter running ipykernel."""
    server = _server
    if server is None or _prefix_of(command) != server.prefix:
        return command
    return [command[0], "-S", "-P", str(SCRIPT), "stub", server.address, "--", *command]


def _wait_until_listening(address: str, process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Wait for the server's socket (it binds before importing); a server that never binds leaves the stubs to
    start their kernels themselves."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(address) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
