"""The environment is installed with compiled bytecode: every kernel would otherwise compile its imports from source.

These machines set ``PYTHONDONTWRITEBYTECODE=1`` (as many container images do), so nothing is compiled at import
time; an install that does not compile (``uv pip sync`` without ``--compile-bytecode``) leaves a report's imports
2.5 times slower. The Makefile compiles at install; this test fails if the environment running it was not.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest

# The heavy imports of a report's first cell.
HEAVY_MODULES = ["pandas", "numpy", "scipy.stats", "statsmodels.api", "matplotlib.pyplot", "ibis", "duckdb", "pandera"]


@pytest.mark.parametrize("name", HEAVY_MODULES)
def test_when_the_environment_is_installed_then_its_heavy_imports_have_bytecode(name):
    module = importlib.import_module(name)
    source = Path(module.__file__)
    cached = Path(importlib.util.cache_from_source(str(source)))
    assert cached.exists(), f"{name} has no compiled bytecode ({cached.name} missing): install with --compile-bytecode"


def test_when_the_environment_is_installed_then_every_installed_package_is_compiled():
    site_packages = Path(importlib.import_module("pandas").__file__).parents[1]
    sources = [path for path in site_packages.glob("*/**/*.py") if "__pycache__" not in path.parts]
    missing = [path for path in sources if not Path(importlib.util.cache_from_source(str(path))).exists()]
    assert sources
    assert not missing, f"{len(missing)} of {len(sources)} modules have no bytecode, e.g. {missing[:3]}"
