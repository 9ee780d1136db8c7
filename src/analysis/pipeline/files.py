"""File writes that never leave a half-written report, and paths that never leave the reports folder."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from analysis.errors import ParameterError

# A name that becomes part of a path: letters, digits, '_' and '-', not starting with '-' or '.'.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# mkstemp creates files readable by the owner only; reports are meant to be shared.
REPORT_FILE_MODE = 0o644


class UnsafePathError(ParameterError):
    """A name or path that would place a file outside the reports folder.

    A usage error (exit code 2), not a data error: the name comes from the run configuration, the command line or
    a caller's argument, and it is refused before anything is written. ``parameter`` says what the name is
    (``"market"``, ``"notebook"``, ``"path"``), ``value`` is the name and ``valid`` what would be accepted.
    """


def safe_name(name: str, *, what: str) -> str:
    """Return ``name`` if it is usable as one path component; raise :class:`UnsafePathError` otherwise.

    Parameters
    ----------
    name
        the candidate, e.g. a market code or a notebook name.
    what
        what the name is, for the error message (``"market"``, ``"notebook"``).
    """
    if not isinstance(name, str) or not SAFE_NAME.fullmatch(name):
        valid = "letters, digits, '_' and '-', starting with a letter or digit"
        raise UnsafePathError(
            f"{what} {name!r} cannot be used in a file name (allowed: {valid})",
            parameter=what,
            value=name,
            valid=valid,
        )
    return name


def path_inside(root: Path, *parts: str) -> Path:
    """``root / parts...`` after checking that the result stays inside ``root``.

    Raises
    ------
    UnsafePathError
        if the joined path resolves outside ``root`` (``..``, absolute parts, symlinks pointing away).
    """
    root = Path(root).resolve()
    candidate = root.joinpath(*parts).resolve()
    if not candidate.is_relative_to(root):
        raise UnsafePathError(
            f"{'/'.join(parts)!r} would be written outside {root}",
            parameter="path",
            value="/".join(parts),
            valid=f"a path inside {root}",
        )
    return candidate


def write_atomically(path: Path, content: str | bytes) -> Path:
    """Write ``content`` to ``path`` so that readers see the old file or the new one, never a partial one.

    The content goes to a temporary file in the same folder, is flushed to disk and then renamed over ``path``
    (``os.replace`` is atomic within one file system). If writing fails, the temporary file is removed and
    ``path`` is left as it was.
    """
    path = Path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, REPORT_FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def temporary_sibling(path: Path) -> Path:
    """A new hidden file next to ``path``, with the same suffix, for a writer that cannot write atomically
    itself (papermill); move it into place with ``os.replace`` when done."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".partial{path.suffix}")
    os.close(handle)
    os.chmod(temporary, REPORT_FILE_MODE)
    return Path(temporary)
