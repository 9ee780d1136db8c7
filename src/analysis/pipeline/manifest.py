"""Which runs are alive: each ``run.json`` names the process that writes it, so the next run can settle dead ones.

A run records its process (``pid``, ``host`` and, on Linux, the process's start time, which tells a reused pid from
the original). When a run starts it looks at the earlier runs in the same reports folder: one still ``running``
whose process is gone on this host died without finishing (``kill -9``, a power cut), and is marked
``interrupted``. Temporary files (``.<name>.<random>.partial…``, see :mod:`analysis.pipeline.files`) of finished
or dead runs are removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from pathlib import Path

from analysis.pipeline.files import write_atomically

MANIFEST = "run.json"
RUNNING, INTERRUPTED = "running", "interrupted"
PARTIAL_GLOB = ".*.partial*"
# A temporary file in the shared reports folder older than this belongs to no live writer.
STALE_PARTIAL_SECONDS = 120


def process_identity() -> dict:
    """``{"pid", "host", "process_started"}`` of the calling process, for its run's manifest."""
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "process_started": _start_ticks(pid)}


def is_dead(manifest: dict) -> bool:
    """Whether the run of ``manifest`` is recorded as running but its process no longer exists.

    Only a run of this host can be judged; a run recorded without a pid (written before runs recorded one) and
    still ``running`` is dead, since every run since records its pid.
    """
    if manifest.get("status") != RUNNING:
        return False
    pid = manifest.get("pid")
    if not isinstance(pid, int):
        return True
    if manifest.get("host") not in (None, socket.gethostname()):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        pass
    recorded = manifest.get("process_started")
    return recorded is not None and _start_ticks(pid) not in (None, recorded)  # the pid was reused


def settle_dead_runs(reports_dir: Path, *, by_run: str) -> list[str]:
    """Mark every dead run under ``reports_dir`` ``interrupted``, remove leftover temporary files; return their ids.

    Parameters
    ----------
    reports_dir
        the folder holding one folder per run.
    by_run
        the id of the run doing this, recorded in each settled manifest.
    """
    settled = []
    for path in sorted(Path(reports_dir).glob(f"*/{MANIFEST}")):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if manifest.get("status") == RUNNING and not is_dead(manifest):
            continue  # a live run, here or on another host: its temporary files are in use
        if is_dead(manifest):
            manifest["status"] = INTERRUPTED
            manifest["interrupted"] = f"its process ended before the run finished (found by run {by_run})"
            with contextlib.suppress(OSError):
                write_atomically(path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
                settled.append(manifest.get("run_id", path.parent.name))
        remove_partials(path.parent)
    remove_partials(Path(reports_dir), older_than=STALE_PARTIAL_SECONDS, recursive=False)
    return settled


def remove_partials(folder: Path, *, older_than: float = 0.0, recursive: bool = True) -> int:
    """Delete temporary files (``.<name>.….partial…``) below ``folder``; return how many were removed."""
    pattern = f"**/{PARTIAL_GLOB}" if recursive else PARTIAL_GLOB
    now, removed = time.time(), 0
    for path in Path(folder).glob(pattern):
        with contextlib.suppress(OSError):
            if path.is_file() and now - path.stat().st_mtime >= older_than:
                path.unlink()
                removed += 1
    return removed


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks after boot (Linux ``/proc/<pid>/stat`` field 22), else None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'
    fields = stat.rsplit(")", 1)[-1].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None
