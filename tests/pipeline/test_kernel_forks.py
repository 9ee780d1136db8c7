"""Kernels forked from the run's server: each report still starts from a clean namespace, configured as a kernel
started from scratch; interrupts reach it, a killed stub takes its kernel along, no server means a plain kernel."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from pathlib import Path

import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from analysis.config import KERNEL_NAME, PROJECT_ROOT
from analysis.pipeline import kernel_forks
from analysis.pipeline.kernel_fork_main import PRELOAD
from analysis.pipeline.kernel_forks import fork_server, stub_command
from analysis.pipeline.kernels import ReportKernelManager, finish_exits

# What a kernel's configuration is made of, read after importing what the server imports (a fresh kernel imports
# them as the report asks; a forked kernel has them already): everything an earlier import could have changed.
PROBE = f"""
import importlib, json, locale, logging, os, signal, sys, warnings, decimal
preloaded = all(name in sys.modules for name in {list(PRELOAD)!r})
for name in {list(PRELOAD)!r}:
    importlib.import_module(name)
import matplotlib, numpy, pandas
from ipykernel.kernelapp import IPKernelApp
options = {{key: repr(pandas.get_option(key)) for key in pandas._config.config._registered_options}}
print(json.dumps({{
    "preloaded": preloaded,
    "backend": matplotlib.get_backend(),
    "rcParams": {{key: repr(value) for key, value in matplotlib.rcParams.items()}},
    "pandas": options,
    "numpy_err": numpy.geterr(),
    "numpy_print": repr(numpy.get_printoptions()),
    "warnings": [repr(entry) for entry in warnings.filters],
    "environ": {{key: value for key, value in os.environ.items() if key != "JPY_SESSION_NAME"}},
    "cwd": os.getcwd(),
    "argv0": sys.argv[0],
    "path": sys.path,
    "recursion": sys.getrecursionlimit(),
    "signals": {{str(sig): repr(signal.getsignal(sig)) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD)}},
    "locale": repr(locale.setlocale(locale.LC_ALL)),
    "decimal": repr(decimal.getcontext()),
    "logging": [logging.getLogger().level, [type(h).__name__ for h in logging.getLogger().handlers]],
    "umask": os.umask(0o022),
    "kernel_app": [IPKernelApp.instance().parent_handle, type(IPKernelApp.instance().poller).__name__],
}}))
"""


def run_cells(cells: list[str], **client_options) -> list[str]:
    """Each cell's standard output, run in a new kernel started as a report's (through ReportKernelManager)."""
    notebook = new_notebook(cells=[new_code_cell(source) for source in cells])
    notebook.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_NAME, "language": "python"}
    manager = ReportKernelManager(kernel_name=KERNEL_NAME)
    client = NotebookClient(notebook, km=manager, resources={"metadata": {"path": str(PROJECT_ROOT)}}, **client_options)
    client.execute()
    finish_exits()
    return [
        "".join(output.get("text", "") for output in cell.outputs if output.get("name") == "stdout")
        for cell in notebook.cells
    ]


def probe() -> dict:
    return json.loads(run_cells([PROBE])[0])


def test_when_forked_then_a_kernel_is_configured_as_one_started_from_scratch():
    plain = probe()
    with fork_server(KERNEL_NAME) as server:
        assert server is not None
        forked = [probe()]  # forked while the server still imports
        while not forked[-1]["preloaded"] and len(forked) < 30:
            forked.append(probe())

    assert not plain.pop("preloaded")
    assert forked[-1]["preloaded"]  # one kernel was forked after every import
    for state in forked:
        state.pop("preloaded")
        assert set(state) == set(plain)
        for key in plain:
            assert state[key] == plain[key], key


def test_when_one_report_changes_its_kernel_then_the_next_report_sees_nothing_of_it(tmp_path: Path):
    (tmp_path / "leaky_module.py").write_text("LOADED = True\n")
    kept_file, database = tmp_path / "kept.txt", tmp_path / "kept.duckdb"
    first = f"""
import json, os, sys, duckdb, matplotlib, pandas
leaked = 1
pandas.set_option("display.max_rows", 3)
matplotlib.rcParams["lines.linewidth"] = 9
json.leaked = True
os.environ["LEAKED"] = "1"
sys.path.append({str(tmp_path)!r})
import leaky_module
handle = open({str(kept_file)!r}, "w")
connection = duckdb.connect({str(database)!r})
connection.execute("create table t as select 1 as x")
print(os.getpid())
"""
    second = f"""
import json, os, sys, duckdb, matplotlib, pandas
targets = {{os.path.realpath(os.path.join("/proc/self/fd", fd)) for fd in os.listdir("/proc/self/fd")}}
print(json.dumps({{
    "pid": os.getpid(),
    "variable": "leaked" in globals() or "handle" in globals() or "connection" in globals(),
    "max_rows": pandas.get_option("display.max_rows"),
    "linewidth": matplotlib.rcParams["lines.linewidth"],
    "module_attribute": hasattr(json, "leaked"),
    "environ": "LEAKED" in os.environ,
    "path": {str(tmp_path)!r} in sys.path,
    "module": "leaky_module" in sys.modules,
    "open_files": sorted(t for t in targets if t.startswith({str(tmp_path)!r})),
}}))
"""
    with fork_server(KERNEL_NAME):
        first_pid = int(run_cells([first])[0])
        seen = json.loads(run_cells([second])[0])

    fresh = {"display.max_rows": 60, "lines.linewidth": 1.5}
    assert seen["pid"] != first_pid
    assert seen["variable"] is False
    assert seen["max_rows"] == fresh["display.max_rows"]
    assert seen["linewidth"] == fresh["lines.linewidth"]
    assert seen["module_attribute"] is False
    assert seen["environ"] is False
    assert seen["path"] is False
    assert seen["module"] is False
    assert seen["open_files"] == []


def test_when_two_kernels_are_forked_then_their_random_generators_differ():
    cell = "import random, numpy\nprint(random.random(), numpy.random.random())"
    with fork_server(KERNEL_NAME):
        first, second = (run_cells([cell])[0].split() for _ in range(2))

    assert first[0] != second[0]
    assert first[1] != second[1]


def test_when_a_forked_kernel_is_interrupted_then_the_running_cell_stops():
    with fork_server(KERNEL_NAME), pytest.raises(Exception, match="KeyboardInterrupt"):  # raised in the kernel
        run_cells(["import time\ntime.sleep(120)"], timeout=3, interrupt_on_timeout=True)


async def started_kernel() -> tuple[ReportKernelManager, int]:
    """A kernel started as a report's, and its process id as the kernel itself reports it."""
    manager = ReportKernelManager(kernel_name=KERNEL_NAME)
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    messages = []
    try:
        await client.wait_for_ready(timeout=60)
        await client.execute_interactive("import os; print(os.getpid())", output_hook=messages.append)
    finally:
        client.stop_channels()
    return manager, int(next(m["content"]["text"] for m in messages if m["msg_type"] == "stream"))


def test_when_the_stub_is_killed_then_its_forked_kernel_ends():
    async def kernel_pid_then_kill_stub() -> int:
        manager, pid = await started_kernel()
        manager.provisioner.process.kill()  # as jupyter_client kills a kernel that does not stop
        manager.provisioner.process.wait()
        await manager.cleanup_resources()
        return pid

    with fork_server(KERNEL_NAME):
        pid = asyncio.run(kernel_pid_then_kill_stub())
        assert _ends_within(pid, seconds=10)


def test_when_the_server_stops_then_no_kernel_of_it_survives():
    with fork_server(KERNEL_NAME) as server:
        _, pid = asyncio.run(started_kernel())
        address = server.address
    assert _ends_within(pid, seconds=10)
    assert not Path(address).exists()


def test_when_no_server_answers_then_the_stub_starts_the_kernel_itself(tmp_path: Path):
    command = ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "conn.json"]
    with fork_server(KERNEL_NAME) as server:  # which forgets the stand-in below when it ends
        kernel_forks._server = kernel_forks.ForkServer(str(tmp_path / "gone"), server.prefix, server.process)
        assert run_cells(["print('ran')"]) == ["ran\n"]
        assert stub_command(command) == command  # another interpreter: never through the server


def test_when_forking_is_switched_off_then_kernels_start_as_before(monkeypatch):
    monkeypatch.setenv(kernel_forks.FORK_SETTING, "0")
    command = [*kernel_forks.kernel_prefix(KERNEL_NAME), "-m", "ipykernel_launcher", "-f", "conn.json"]
    with fork_server(KERNEL_NAME) as server:
        assert server is None
        assert stub_command(command) == command


def test_when_a_run_forks_its_kernels_then_the_stub_replaces_the_kernel_command():
    with fork_server(KERNEL_NAME) as server:
        command = [*server.prefix, "-m", "ipykernel_launcher", "-f", "conn.json"]
        stubbed = stub_command(command)
    assert stubbed[-len(command) :] == command
    assert stubbed[:6] == [command[0], "-S", "-P", str(kernel_forks.SCRIPT), "stub", server.address]


def _ends_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        _reap_if_ours(pid)
        time.sleep(0.1)
    return False


def _reap_if_ours(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@pytest.mark.parametrize(
    ("platform", "setting", "enabled"),
    [
        ("linux", None, True),
        ("linux", "0", False),
        ("linux", "false", False),
        ("darwin", None, False),  # opt-in where system libraries are not all safe after a fork
        ("darwin", "1", True),
        ("darwin", "yes", True),
    ],
)
def test_forking_is_on_by_default_on_linux_only(monkeypatch, platform: str, setting: str | None, enabled: bool):
    monkeypatch.setattr(kernel_forks.sys, "platform", platform)
    if setting is None:
        monkeypatch.delenv(kernel_forks.FORK_SETTING, raising=False)
    else:
        monkeypatch.setenv(kernel_forks.FORK_SETTING, setting)

    assert kernel_forks.forking_enabled() is enabled
