"""Paths as a deliverable shows them: relative to the project, never the machine's absolute paths.

A report, ``run.json`` and the index name the data folder as ``data/demo`` (relative to the project root) or, for
a folder outside the project, by its name alone. Papermill receives ``data_dir`` relative to the project when the
folder is inside it (kernels run with the project root as their working directory, so the relative path reads the
same files, and error messages quote it relative too); a folder outside the project has to be passed absolute, so
the executed notebook keeps it there and :class:`PathScrubber` removes it from everything else the run writes.
"""

from __future__ import annotations

import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from analysis.config import PROJECT_ROOT

# Colour codes in kernel tracebacks (IPython's ultratb) and in some library warnings.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def project_relative(path: str | Path, root: Path = PROJECT_ROOT) -> str | None:
    """``path`` relative to ``root`` in POSIX form (``"data/demo"``), or None when it lies outside ``root``."""
    resolved, root = Path(path).resolve(), Path(root).resolve()
    if not resolved.is_relative_to(root):
        return None
    return resolved.relative_to(root).as_posix() or "."


def shown_path(path: str | Path, root: Path = PROJECT_ROOT) -> str:
    """How a deliverable names ``path``: relative to ``root`` when inside it, else by its folder or file name."""
    relative = project_relative(path, root)
    return relative if relative is not None else Path(path).resolve().name


def parameter_path(path: str | Path, root: Path = PROJECT_ROOT) -> str:
    """``path`` as passed to a notebook: relative to ``root`` when inside it (kernels run there), else absolute."""
    relative = project_relative(path, root)
    return relative if relative is not None else str(Path(path).resolve())


@dataclass(frozen=True)
class PathScrubber:
    """Replaces the machine's absolute paths in text with what a reader may see.

    Known folders (the data folder, the reports folder) become their :func:`shown_path`; the project root and the
    Python installation (``sys.prefix``, where ``.venv`` lives, and the base interpreter) are cut to a relative
    path or ``<python>``; the temporary folder becomes ``<tmp>`` and the home folder ``~``. Longer prefixes are
    replaced first, so a data folder inside the project is named as the project names it.
    """

    replacements: tuple[tuple[str, str], ...]

    @classmethod
    def for_run(cls, *folders: str | Path, root: Path = PROJECT_ROOT) -> PathScrubber:
        """A scrubber for a run reading and writing ``folders`` in the project at ``root``."""
        pairs: dict[str, str] = {}
        for folder in folders:
            pairs[str(Path(folder).resolve())] = shown_path(folder, root)
        pairs[str(Path(root).resolve())] = "."
        for prefix in (sys.prefix, sys.exec_prefix, sys.base_prefix):
            pairs.setdefault(str(Path(prefix).resolve()), "<python>")
        # kernels name their cells' code files there (/tmp/ipykernel_<pid>/<hash>.py) in warnings
        pairs.setdefault(str(Path(tempfile.gettempdir()).resolve()), "<tmp>")
        home = Path.home().resolve()
        if str(home) not in ("/", ""):
            pairs.setdefault(str(home), "~")
        ordered = sorted(pairs.items(), key=lambda pair: len(pair[0]), reverse=True)
        return cls(tuple((prefix, shown) for prefix, shown in ordered if prefix not in ("/", "")))

    def __call__(self, text: str) -> str:
        """``text`` with every known absolute prefix replaced and ANSI colour codes removed."""
        text = ANSI_ESCAPE.sub("", text)
        for prefix, shown in self.replacements:
            # "<prefix>/x" becomes "<shown>/x" ("./x" is written "x"); the prefix alone becomes "<shown>"
            text = text.replace(prefix + "/", "" if shown == "." else shown + "/")
            text = re.sub(re.escape(prefix) + r"(?![\w-]|\.\w)", shown, text)  # not a longer name
        return text

    def scrub_value(self, value: object) -> object:
        """``value`` with every string inside it (nested lists and dicts too) scrubbed."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, list):
            return [self.scrub_value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.scrub_value(item) for key, item in value.items()}
        return value
