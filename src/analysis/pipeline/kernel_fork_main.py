"""The kernel fork server and its stub, as one script of the standard library (see :mod:`.kernel_forks`).

Never imported by a kernel or by the analysis: the run starts it as a script, in two roles::

    python kernel_fork_main.py serve ADDRESS               # the server: imports the libraries once, forks kernels
    python -S -P kernel_fork_main.py stub ADDRESS -- CMD   # what jupyter_client starts in place of kernel CMD

**The server** binds the Unix socket ``ADDRESS`` and serves requests, one connection per kernel, importing the
libraries every report's kernel imports (:data:`PRELOAD`, third-party only: nothing of the analysis, whose modules
read the report's settings when imported) one at a time while no request waits, so a kernel never waits for the
imports. For each request it forks a child that takes the stub's standard streams, environment, working directory and
arguments, reseeds NumPy's global generator, and runs ipykernel as ``python -m ipykernel_launcher`` does. The child's
namespace is new: the server never runs report code, so nothing of one report reaches the next. When a child ends,
the server sends its exit status to its stub; when a stub goes away (killed by jupyter_client, or its worker died),
the server kills its child. The server ends when its parent does or on SIGTERM, killing its children.

**The stub** is the process jupyter_client knows as the kernel: it sends its request (standard streams passed as file
descriptors), forwards the signals it receives (an interrupt is SIGINT to its process group) to the kernel and exits
with the kernel's status. When no server answers, it becomes the kernel command it was given (``exec``), so a kernel
always starts.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import importlib.util
import json
import os
import select
import selectors
import signal
import socket
import struct
import sys
import time
import traceback
import warnings

# Imported once by the server. Modules the kernels of the reports import, costly to import, and free of import-time
# settings that differ between reports (matplotlib reads MPLBACKEND, set as ipykernel sets it; see Preloaded).
PRELOAD = (
    "ipykernel.kernelapp",
    "numpy",
    "pandas",
    "pyarrow.parquet",
    "duckdb",
    "ibis",
    "ibis.backends.duckdb",
    "sqlglot",
    "scipy.stats",
    "scipy.optimize",
    "statsmodels.api",
    "statsmodels.stats.proportion",
    "matplotlib.pyplot",
    "seaborn",
    "pandera.pandas",
    "pydantic",
    "yaml",
    "nbformat",
)
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # what ipykernel sets when MPLBACKEND is unset
LAUNCHER = "ipykernel_launcher"
HEADER = struct.Struct("!I")
MAX_MESSAGE = 16 * 1024 * 1024
PARENT_POLL_SECONDS = 0.5
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def send_message(sock: socket.socket, message: dict, fds: tuple[int, ...] = ()) -> None:
    """Send ``message`` as length-prefixed JSON, with ``fds`` attached."""
    data = json.dumps(message).encode()
    payload = HEADER.pack(len(data)) + data
    sent = socket.send_fds(sock, [payload], list(fds)) if fds else sock.send(payload)
    if sent < len(payload):
        sock.sendall(payload[sent:])


def receive_message(sock: socket.socket) -> tuple[dict | None, list[int]]:
    """One message and the file descriptors sent with it; (None, []) when the peer closed the connection."""
    data, fds, _, _ = socket.recv_fds(sock, 65536, 3)
    if not data:
        return None, fds
    while len(data) < HEADER.size:
        data += _more(sock)
    (length,) = HEADER.unpack_from(data)
    if length > MAX_MESSAGE:
        raise ValueError(f"message of {length} bytes")
    while len(data) < HEADER.size + length:
        data += _more(sock)
    return json.loads(data[HEADER.size : HEADER.size + length]), fds


def _more(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise ConnectionError("connection closed within a message")
    return chunk


# --- the server -----------------------------------------------------------------------------------------------


def serve(address: str) -> None:
    """Bind ``address``, then fork a kernel per request until the parent ends or SIGTERM, importing :data:`PRELOAD`
    one library at a time while no request waits (a kernel forked before the end imports the rest itself)."""
    parent = os.getppid()
    die_with_parent()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(64)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    preloaded = Preloaded()
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes select() through the wake-up pipe
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(wake_read, selectors.EVENT_READ)
    children: dict[int, socket.socket] = {}
    private = [listener, wake_read, wake_write]
    try:
        while not stopping and os.getppid() == parent:
            for key, _ in selector.select(timeout=0 if preloaded.pending else 1.0):
                if key.fileobj is listener:
                    _accept(listener, selector, children, private, preloaded.changes())
                elif key.fileobj == wake_read:
                    os.read(wake_read, 4096)
                else:  # a stub closed its connection (it was killed): its kernel goes too
                    _kill(_pid_of(children, key.fileobj))
            _reap(children, selector)
            preloaded.next()
    finally:
        for pid in list(children):
            _kill(pid)
        listener.close()
        os.unlink(address)


class Preloaded:
    """The libraries of :data:`PRELOAD` imported so far, and what importing them changed that a kernel would have
    from importing them itself: environment variables they set and warning filters they added (those after
    ipykernel's own, which a kernel has before any library)."""

    def __init__(self) -> None:
        os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
        self.environment = dict(os.environ)
        self.pending = list(PRELOAD)
        self.next()  # ipykernel: every kernel needs it
        self.filters = list(warnings.filters)

    def next(self) -> None:
        """Import the next library (one that fails here is left for the kernel to import, or fail on)."""
        if self.pending:
            with contextlib.suppress(Exception):
                importlib.import_module(self.pending.pop(0))

    def changes(self) -> dict:
        """What the imports so far changed (for :func:`run_kernel`)."""
        return {
            "environ": {key: value for key, value in os.environ.items() if self.environment.get(key) != value},
            "filters": [entry for entry in warnings.filters if entry not in self.filters],
        }


def _accept(listener, selector, children, private, imported: dict) -> None:
    connection, _ = listener.accept()
    try:
        request, fds = receive_message(connection)
    except (OSError, ValueError):
        connection.close()
        return
    if request is None or len(fds) != 3:
        connection.close()
        for fd in fds:
            os.close(fd)
        return
    pid = os.fork()
    if pid == 0:  # the kernel: nothing of the server's sockets, handlers or children comes with it
        code = 1
        try:
            selector.close()
            for resource in [*private, *children.values(), connection]:
                resource.close() if hasattr(resource, "close") else os.close(resource)
            code = run_kernel(request, fds, imported)
        except BaseException:  # noqa: BLE001 - shown on the kernel's stderr (the stub's), then the child ends
            traceback.print_exc()
        finally:
            os._exit(code)
    for fd in fds:
        os.close(fd)
    try:
        send_message(connection, {"pid": pid})
    except OSError:
        _kill(pid)
    children[pid] = connection
    selector.register(connection, selectors.EVENT_READ)


def run_kernel(request: dict, fds: list[int], imported: dict) -> int:
    """In the forked child: become the kernel ``request`` describes and run it; its exit code.

    ``imported`` is :meth:`Preloaded.changes`: what importing the libraries changed in the server, which a kernel
    started from scratch gets by importing them after it started.
    """
    signal.set_wakeup_fd(-1)
    for signum in (signal.SIGCHLD, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    os.setsid()
    die_with_parent()  # a server killed outright takes its kernels along
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update({**imported["environ"], **request["env"]})
    time.tzset()  # the kernel's TZ, should it differ from the server's
    os.chdir(request["cwd"])
    numpy = sys.modules.get("numpy")
    if numpy is not None:  # its global generator was seeded once, in the server: each kernel draws its own seed
        numpy.random.seed()
    launcher = importlib.util.find_spec(LAUNCHER)
    sys.argv = [launcher.origin if launcher else LAUNCHER, *request["args"]]
    from ipykernel.kernelapp import IPKernelApp

    # as ipykernel's launcher runs it; trait defaults it read from the environment when imported are the kernel's
    app = IPKernelApp.instance(
        parent_handle=int(os.environ.get("JPY_PARENT_PID") or 0),
        interrupt=int(os.environ.get("JPY_INTERRUPT_EVENT") or 0),
    )
    code = 0
    try:
        app.initialize()
        with app.shell.builtin_trap:  # as a report's cell runs: get_ipython() answers
            _as_if_imported_in_the_kernel(imported)
        app.start()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    return code  # the caller ends the process at once: no interpreter teardown of a kernel whose report is done


def _as_if_imported_in_the_kernel(imported: dict) -> None:
    """Put right what depends on where the libraries were imported: the libraries' warning filters come before the
    kernel's (a kernel adds its own when it starts, before any import of the report), and pandas' two display
    defaults that it reads from its surroundings (console encoding; a terminal or a kernel) are the kernel's."""
    added = [entry for entry in imported["filters"] if entry in warnings.filters]
    warnings.filters[:] = added + [entry for entry in warnings.filters if entry not in added]
    warnings._filters_mutated()  # noqa: SLF001 - what warnings.filterwarnings calls after changing the list
    if "pandas" not in sys.modules:
        return
    from pandas._config import config
    from pandas._config.display import detect_console_encoding
    from pandas.core.config_init import is_terminal

    defaults = {"display.encoding": detect_console_encoding(), "display.max_columns": 0 if is_terminal() else 20}
    for key, value in defaults.items():  # as pandas' config_init decides them; reset_option() then gives them too
        registered = config._registered_options  # noqa: SLF001 - the one place pandas keeps an option's default
        registered[key] = registered[key]._replace(defval=value)
        config.set_option(key, value)


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent ends (elsewhere the server's loop and ipykernel's parent
    poller notice within a second)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _reap(children: dict[int, socket.socket], selector: selectors.BaseSelector) -> None:
    for pid in list(children):
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, status = pid, 0
        if done:
            connection = children.pop(pid)
            selector.unregister(connection)
            with contextlib.suppress(OSError):
                send_message(connection, {"exit": os.waitstatus_to_exitcode(status)})
            connection.close()


def _pid_of(children: dict[int, socket.socket], connection) -> int | None:
    return next((pid for pid, known in children.items() if known is connection), None)


def _kill(pid: int | None) -> None:
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


# --- the stub ---------------------------------------------------------------------------------------------------


def stub(address: str, command: list[str]) -> None:
    """Have the server at ``address`` fork the kernel ``command`` describes; relay signals; exit as it exits."""
    launcher = command.index(LAUNCHER)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(address)
        request = {"args": command[launcher + 1 :], "env": dict(os.environ), "cwd": os.getcwd()}
        send_message(sock, request, fds=(0, 1, 2))
        reply, _ = receive_message(sock)
        pid = int(reply["pid"])
    except (OSError, ValueError, TypeError, KeyError):
        sock.close()
        os.execv(command[0], command)  # no server: the kernel starts as it would without one
    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, lambda received, _frame: _forward(pid, received))
    reply = _exit_of_kernel(sock)
    code = int(reply["exit"]) if reply else 1
    if code < 0:  # ended by a signal: end by the same one, as the kernel process itself would have
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code)


def _exit_of_kernel(sock: socket.socket) -> dict | None:
    """The server's exit message for the kernel; None when the server or this stub's parent (the worker) is gone."""
    parent = os.getppid()
    try:
        while not select.select([sock], [], [], PARENT_POLL_SECONDS)[0]:
            if os.getppid() != parent:  # the worker died: leaving closes the connection, the server kills the kernel
                return None
        return receive_message(sock)[0]
    except (OSError, ValueError):
        return None


def _forward(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


if __name__ == "__main__":
    role, address, *rest = sys.argv[1:]
    if role == "serve":
        del sys.path[0]  # this script's folder, as ipykernel's launcher removes its own: the kernel's path, unchanged
        serve(address)
    else:
        stub(address, rest[1:] if rest[:1] == ["--"] else rest)
