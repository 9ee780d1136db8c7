"""The kernel each report runs in: no port race at start, and no wait for its exit before the report renders.

- **No port race.** Over TCP, jupyter_client picks free ports, closes them and hands them to the kernel; a kernel of
  another worker may take one in between. A kernel that then cannot bind its IOPub port does not exit: it hangs, and
  the report waited the whole start timeout (180 s) before failing. On POSIX systems the kernels talk over Unix
  sockets instead (ZeroMQ's ``ipc`` transport), named after a random token in the temporary folder, so no two
  kernels can ask for the same address.
- **No wait for the exit.** A kernel that has imported the analysis stack takes seconds to end (interpreter
  teardown of pandas, scipy, ibis...). Its report does not need to wait: the kernel is asked to shut down, the worker
  writes and renders the report meanwhile, and :func:`finish_exits` then waits for the process (killing it after
  :data:`EXIT_WAIT_SECONDS`), so a kernel never outlives its report.
- **Forked from the run's server** when there is one (:mod:`~analysis.pipeline.kernel_forks`): the kernel command
  becomes the fork server's stub, and the kernel skips importing the libraries again.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import tempfile

from jupyter_client.manager import AsyncKernelManager
from traitlets import default

from analysis.pipeline.kernel_forks import stub_command

# How long a kernel asked to shut down may take to end before it is killed.
EXIT_WAIT_SECONDS = 10.0

_exiting: list[subprocess.Popen] = []


def uses_unix_sockets() -> bool:
    """Whether kernels are reached over Unix sockets (POSIX) rather than TCP ports (Windows)."""
    return os.name == "posix" and sys.platform != "cygwin"


class ReportKernelManager(AsyncKernelManager):
    """A kernel manager for reports: Unix sockets where available; a graceful shutdown that does not wait."""

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc" if uses_unix_sockets() else "tcp"

    def _ip_default(self) -> str:
        if self.transport == "ipc":  # short: a Unix socket path is limited to about 100 bytes
            return os.path.join(tempfile.gettempdir(), f"wbk-{secrets.token_hex(6)}")
        return super()._ip_default()

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        """The kernel command, started through the run's fork server when there is one."""
        return stub_command(super().format_kernel_cmd(extra_arguments))

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        if now or restart or not self.owns_kernel or not self.has_kernel:
            await super()._async_shutdown_kernel(now=now, restart=restart)
            return
        self.shutting_down = True
        self.stop_restarter()
        process = getattr(self.provisioner, "process", None)
        if process is None:
            await super()._async_shutdown_kernel(now=now, restart=restart)
            return
        await self._async_request_shutdown(restart=False)
        _exiting.append(process)
        await self._async_cleanup_resources(restart=False)

    shutdown_kernel = _async_shutdown_kernel


def finish_exits(wait: float = EXIT_WAIT_SECONDS) -> int:
    """Wait for every kernel asked to shut down in this process to end; kill those that take over ``wait`` seconds.

    Returns how many had to be killed.
    """
    killed = 0
    while _exiting:
        process = _exiting.pop()
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            killed += 1
    return killed
