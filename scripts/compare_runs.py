"""Compare the executed notebooks of two report runs, output by output, to show that a change moved no number.

Usage::

    python scripts/compare_runs.py reports/<old-run-id> reports/<new-run-id>

Notebooks (``*.ipynb`` below each run folder) are matched by their path relative to it. In each notebook the outputs
are read in order as a reader sees them: ``text/plain``, ``text/markdown`` and ``text/html`` (tables) of results and
displays, stream text, and the name and value of errors. Images are compared by count and type only, never by
bytes. Outputs are aligned as sequences, so splitting or merging cells does not shift the comparison; consecutive
stream outputs are joined for the same reason. What changes from run to run is masked before comparing: timestamps,
run ids, durations, absolute paths, package versions, git commits, memory addresses and pandas Styler ids. Cell
sources, execution counts and metadata (papermill's included) are not compared.

Prints a unified diff for each difference and a summary (``N notebooks, M outputs compared, K differ``); the exit
status is 0 when the runs agree, 1 when they differ, 2 when a run folder is missing.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

COMPARED_TEXT = ("text/plain", "text/markdown", "text/html")
VOLATILE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b\d{8}T\d{6}Z-[0-9a-f]{4}\b"), "<run-id>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"), "<time>"),
    (re.compile(r"\b(took|in|duration:?|elapsed:?)\s+\d+(?:\.\d+)?\s?(?:ms|s|sec|seconds)\b"), r"\1 <duration>"),
    (re.compile(r"data:image/[\w.+-]+;base64,[A-Za-z0-9+/=\s]+"), "data:image;base64,<image>"),
    # An absolute path has at least two parts; '<', ':' and '/' before it rule out closing tags, URLs and ratios.
    (re.compile(r"(?<![\w.~<:/])/(?:[\w.@+-]+/)+[\w.@+-]*(?::\d+)?"), "<path>"),
    (re.compile(r"\b([A-Za-z][\w.-]*)(\s+|==|=)v?\d+\.\d+\.\d+(?:[.+-]?[A-Za-z]+\d*)*\b"), r"\1\2<version>"),
    (re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,64}\b"), "<commit>"),
    (re.compile(r"\bat 0x[0-9a-f]+\b"), "at 0x<address>"),
    (re.compile(r"\bT_[0-9a-f]{5}(?![0-9a-f])"), "T_<id>"),  # the random id of a pandas Styler table
)


@dataclass(frozen=True)
class Output:
    """One output as compared: where it is (``cell 5 output 0``), its kind and its masked text."""

    where: str
    kind: str
    text: str


def mask_volatile(text: str) -> str:
    """``text`` with everything that changes from run to run (times, ids, paths, versions) replaced by a label."""
    for pattern, label in VOLATILE:
        text = pattern.sub(label, text)
    return text


def describe(output: dict) -> tuple[str, str]:
    """The kind (``stream:stdout``, ``error``, ``result``) and comparable text of one notebook output."""
    kind = output.get("output_type")
    if kind == "stream":
        return f"stream:{output.get('name')}", mask_volatile(_text(output.get("text", "")))
    if kind == "error":
        return "error", mask_volatile(f"{output.get('ename')}: {output.get('evalue')}")
    parts = []  # execute_result and display_data look the same to a reader
    for mime, value in sorted(output.get("data", {}).items()):
        if mime in COMPARED_TEXT:
            parts.append(f"[{mime}]\n{mask_volatile(_text(value))}")
        else:
            parts.append(f"[{mime}: {'an image' if mime.startswith('image/') else 'not compared'}]")
    return "result", "\n".join(parts)


def notebook_outputs(path: Path) -> list[Output]:
    """Every output of the notebook at ``path`` in reading order, consecutive streams of one name joined."""
    outputs: list[Output] = []
    for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
        for number, output in enumerate(cell.get("outputs", [])):
            kind, text = describe(output)
            if kind.startswith("stream:") and outputs and outputs[-1].kind == kind:
                outputs[-1] = Output(outputs[-1].where, kind, outputs[-1].text + text)
            else:
                outputs.append(Output(f"cell {index} output {number}", kind, text))
    return outputs


def notebooks_in(run_dir: Path) -> dict[str, Path]:
    """``{relative path: path}`` of the executed notebooks in ``run_dir``; hidden files and folders are skipped."""
    found = {}
    for path in sorted(run_dir.rglob("*.ipynb")):
        relative = path.relative_to(run_dir)
        if not any(part.startswith(".") for part in relative.parts):
            found[relative.as_posix()] = path
    return found


@dataclass
class Comparison:
    """The outcome of comparing two runs: counts and one unified diff per difference."""

    notebooks: int = 0
    outputs: int = 0
    differing: int = 0
    diffs: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """``N notebooks, M outputs compared, K differ``."""
        return f"{self.notebooks} notebooks, {self.outputs} outputs compared, {self.differing} differ"


def compare_notebooks(name: str, old: list[Output], new: list[Output], comparison: Comparison) -> None:
    """Align ``old`` and ``new`` outputs of notebook ``name``; count them and add a diff for each mismatch."""
    matcher = difflib.SequenceMatcher(a=[o.text for o in old], b=[o.text for o in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        comparison.outputs += max(i2 - i1, j2 - j1)
        if tag == "equal":
            continue
        comparison.differing += max(i2 - i1, j2 - j1)
        diff = difflib.unified_diff(
            "\n\n".join(o.text for o in old[i1:i2]).splitlines(),
            "\n\n".join(o.text for o in new[j1:j2]).splitlines(),
            fromfile=f"OLD/{name} {_span(old[i1:i2])}",
            tofile=f"NEW/{name} {_span(new[j1:j2])}",
            lineterm="",
        )
        comparison.diffs.append("\n".join(diff))


def compare_runs(old_dir: Path, new_dir: Path) -> Comparison:
    """Compare every executed notebook of two run folders; a notebook in one run only counts as a difference."""
    old, new = notebooks_in(old_dir), notebooks_in(new_dir)
    comparison = Comparison()
    for name in sorted(old.keys() | new.keys()):
        comparison.notebooks += 1
        if name not in new or name not in old:
            comparison.differing += 1
            comparison.diffs.append(f"only in {'OLD' if name in old else 'NEW'}: {name}")
            continue
        compare_notebooks(name, notebook_outputs(old[name]), notebook_outputs(new[name]), comparison)
    return comparison


def main(argv: list[str] | None = None) -> int:
    """Compare OLD_RUN_DIR with NEW_RUN_DIR, print the diffs and the summary; 0 if they agree, 1 if not."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old_run_dir", type=Path, help="reports/<run-id> of the run before the change")
    parser.add_argument("new_run_dir", type=Path, help="reports/<run-id> of the run after the change")
    args = parser.parse_args(argv)
    for folder in (args.old_run_dir, args.new_run_dir):
        if not folder.is_dir():
            print(f"compare_runs: {folder}: no such run folder", file=sys.stderr)
            return 2
    comparison = compare_runs(args.old_run_dir, args.new_run_dir)
    for diff in comparison.diffs:
        print(diff, end="\n\n")
    print(comparison.summary())
    return 1 if comparison.differing else 0


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _span(outputs: list[Output]) -> str:
    if not outputs:
        return "(no output here)"
    first, last = outputs[0].where, outputs[-1].where
    return first if first == last else f"{first} to {last}"


if __name__ == "__main__":
    sys.exit(main())
