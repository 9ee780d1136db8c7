"""The life of a run's processes: workers die with the run, kernels die with their worker, signals stop a run.

A run is one ``workbook run`` process, its pool of worker processes and one Jupyter kernel per worker at a time.

- A worker asks Linux to kill it when its parent dies (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), and a watchdog thread
  ends it when its parent changes, for systems without ``prctl``: a ``kill -9`` of the run leaves no worker writing
  into a dead run.
- A kernel started from scratch is a child of its worker; jupyter_client gives it the worker's pid
  (``JPY_PARENT_PID``), and ipykernel's parent poller ends the kernel within a second of its worker's death. A forked
  kernel (:mod:`~analysis.pipeline.kernel_forks`) is a child of the run's fork server and dies with it; its worker
  knows it through a stub, which leaves when its worker dies, and the server then kills the kernel.
- Workers ignore Ctrl-C and SIGTERM: the run process catches both (:func:`stop_signals`), stops its workers
  (:func:`stop_workers`) and records the run as interrupted.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WATCHDOG_SECONDS = 0.5
STOP_GRACE_SECONDS = 2.0


class RunStopped(KeyboardInterrupt):
    """The run process received SIGTERM (or SIGINT); raised in its main thread, like Ctrl-C."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal.Signals(signal_number).name)
        self.signal_number = signal_number


def die_with_parent() -> None:
    """Make the calling process end when its parent does (call first thing in a worker)."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCHDOG_SECONDS)
        os._exit(1)  # no cleanup: the run is gone, and its next run removes what is left

    threading.Thread(target=watch, name="workbook-parent-watchdog", daemon=True).start()


def ignore_stop_signals() -> None:
    """In a worker: leave Ctrl-C and SIGTERM to the run process, which stops the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """While inside: SIGTERM raises :class:`RunStopped` in the main thread, as Ctrl-C raises KeyboardInterrupt.

    Outside the main thread (where Python cannot install handlers) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signal_number: int, frame: object) -> None:
        raise RunStopped(signal_number)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stop_workers() -> None:
    """End every child process of this one (the pool's workers): SIGTERM, then SIGKILL after a short grace."""
    children = multiprocessing.active_children()
    for child in children:
        with contextlib.suppress(OSError):
            child.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))
        if child.is_alive():
            with contextlib.suppress(OSError):
                child.kill()
            child.join(1.0)
