"""The lookup tables the format adapters ship with: small CSV files beside this module (package data).

They are data, not code: a later release of a foreign format adds rows here, not lines in a module. Each file is
read once, when its adapter is imported.
"""

from __future__ import annotations

import csv
from importlib import resources


def read_lookup(file_name: str) -> list[dict[str, str]]:
    """The rows of the bundled lookup file ``file_name``, each a dict of its header's columns (empty cells ``""``)."""
    with resources.files(__package__).joinpath(file_name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
