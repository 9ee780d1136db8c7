"""Where a report came from: code version, data fingerprint, package versions, run time."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from analysis.config import PROJECT_ROOT

# Distributions whose versions decide what a report says.
REPORTED_PACKAGES = (
    "pandas",
    "ibis-framework",
    "duckdb",
    "pandera",
    "statsmodels",
    "papermill",
    "nbconvert",
)
SHORT_HASH_LENGTH = 12


@dataclass(frozen=True)
class Provenance:
    """What a run's reports were made from; one per run, shared by its reports.

    Attributes
    ----------
    started_at
        run start, UTC, ISO 8601 with a trailing ``Z``.
    git_commit
        ``git rev-parse --short HEAD`` of the project, ``"unknown"`` outside a git checkout.
    git_dirty
        whether tracked files differed from that commit (None when unknown).
    data_fingerprint
        sha256 over the data folder's file names and contents (hex).
    packages
        ``{"python": "3.11.9", "pandas": "3.1.0", ...}``; ``"not installed"`` for a missing one.
    """

    started_at: str
    git_commit: str
    git_dirty: bool | None
    data_fingerprint: str
    packages: dict[str, str] = field(default_factory=dict)

    @property
    def code_version(self) -> str:
        """The commit as a reader sees it: ``3f2a9c1``, ``3f2a9c1 (dirty)`` or ``unknown``."""
        return f"{self.git_commit} (dirty)" if self.git_dirty else self.git_commit

    @property
    def short_fingerprint(self) -> str:
        """The first 12 hex digits of the data fingerprint, as reports show it."""
        return self.data_fingerprint[:SHORT_HASH_LENGTH]

    def to_dict(self) -> dict:
        """The provenance as plain JSON-ready values, for the run manifest."""
        return asdict(self)


def collect_provenance(data_dir: Path, *, repository: Path = PROJECT_ROOT, now: datetime | None = None) -> Provenance:
    """The provenance of a run reading ``data_dir`` with the code in ``repository``."""
    now = now or datetime.now(UTC)
    commit, dirty = git_version(repository)
    return Provenance(
        started_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        git_commit=commit,
        git_dirty=dirty,
        data_fingerprint=data_fingerprint(data_dir),
        packages=package_versions(),
    )


def git_version(repository: Path) -> tuple[str, bool | None]:
    """``(short commit, dirty)`` of ``repository``; ``("unknown", None)`` if it is not a git checkout."""

    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repository), *arguments], capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        # Untracked files (reports, scratch data) do not change what the code computes.
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return "unknown", None
    return commit, dirty


def data_fingerprint(data_dir: Path) -> str:
    """sha256 (hex) over every file below ``data_dir``: relative name, size and contents, in name order.

    Renaming, editing, adding or removing a file changes the fingerprint; the folder's own location does not.
    Hidden files (names starting with ``.``) are skipped, as are files inside hidden folders.
    """
    data_dir = Path(data_dir)
    digest = hashlib.sha256()
    files = sorted(
        path
        for path in data_dir.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(data_dir).parts)
    )
    for path in files:
        name = path.relative_to(data_dir).as_posix().encode("utf-8")
        digest.update(len(name).to_bytes(8, "big") + name + path.stat().st_size.to_bytes(8, "big"))
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def package_versions(packages: tuple[str, ...] = REPORTED_PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` (``"not installed"`` for a missing one), with Python first."""
    versions = {"python": platform.python_version()}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions
