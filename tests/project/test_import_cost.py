"""A report's fixed cost: what a notebook's setup cell imports before its first line of analysis.

Every report starts a fresh kernel, so every module its setup cell imports is paid once per report (about fifty per
scheduled run). Three heavy packages are not needed there: ``seaborn`` (the theme is matplotlib settings),
``scipy.stats`` (seconds, mostly through seaborn) and ``pandera`` (the contract's schemas are built when validation
first asks for one; it also imports pyspark when installed). Each notebook's setup imports are read from the notebook
itself and run in a fresh interpreter, which then lists the heavy modules it holds.

The look without seaborn is held equal to seaborn's, setting by setting, with seaborn as the oracle.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import matplotlib
import matplotlib.colors
import pytest

from analysis import contract
from analysis.present import theme

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(path.stem for path in (ROOT / "notebooks").glob("*.ipynb"))
NOT_BEFORE_NEEDED = ("seaborn", "scipy.stats", "pandera")

# Where the analysis itself needs a module, loading it with the setup imports costs nothing extra: these pairs are
# not checked, each with the reason.
NEEDED_BY_THE_ANALYSIS: dict[tuple[str, str], str] = {
    ("competitive_benchmarking", "scipy.stats"): "every benchmark report fits the gap trends with statsmodels OLS",
    ("post_initiative_results", "scipy.stats"): "the experiment readout and the DiD intervals use scipy.stats",
}


def setup_imports(notebook: str) -> str:
    """The import statements of the notebook's setup cell (its first code cell importing from ``analysis``)."""
    cells = json.loads((ROOT / "notebooks" / f"{notebook}.ipynb").read_text())["cells"]
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse("".join(cell["source"]))
        imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
        if any(isinstance(node, ast.ImportFrom) and (node.module or "").startswith("analysis") for node in imports):
            return "\n".join(ast.unparse(node) for node in imports)
    raise AssertionError(f"{notebook}: no setup cell importing from analysis")


@cache
def loaded_after_setup() -> dict[str, set[str]]:
    """For each notebook, which of ``NOT_BEFORE_NEEDED`` a fresh interpreter holds after the setup imports."""
    probe = f"\nimport sys\nprint(' '.join(m for m in {NOT_BEFORE_NEEDED!r} if m in sys.modules))"
    processes = {
        notebook: subprocess.Popen(
            [sys.executable, "-c", setup_imports(notebook) + probe],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for notebook in NOTEBOOKS
    }  # all at once: the machine's two cores share them
    loaded = {}
    for notebook, process in processes.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, f"{notebook}: setup imports failed\n{err}"
        loaded[notebook] = set(out.split())
    return loaded


def _cases():
    for notebook in NOTEBOOKS:
        for module in NOT_BEFORE_NEEDED:
            if (notebook, module) not in NEEDED_BY_THE_ANALYSIS:
                yield pytest.param(notebook, module, id=f"{notebook}-{module}")


def test_when_the_notebooks_are_listed_then_all_seven_are_checked():
    assert len(NOTEBOOKS) == 7
    assert all(setup_imports(notebook) for notebook in NOTEBOOKS)


@pytest.mark.parametrize(("notebook", "module"), list(_cases()))
def test_when_a_notebook_runs_its_setup_imports_then_no_heavy_module_is_loaded_before_it_is_needed(notebook, module):
    assert module not in loaded_after_setup()[notebook], (
        f"{notebook}: its setup imports load {module}; find who with "
        f"python -X importtime -c '<the setup cell imports>' and import it where it is used"
    )


def test_when_the_contract_is_imported_then_pandera_waits_until_a_schema_is_asked_for():
    code = (
        "import sys\nfrom analysis import contract\n"
        "facts = [contract.key_of(t) for t in contract.TABLE_NAMES] + [contract.time_column_of('orders')]\n"
        "before = 'pandera' in sys.modules\n"
        "schema = contract.schema_for('events')\n"
        "print(before, 'pandera' in sys.modules, schema is contract.EVENTS is contract.TABLES['events'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.split() == ["False", "True", "True"]


@pytest.mark.parametrize("table", contract.TABLE_NAMES)
def test_when_a_table_is_known_then_its_facts_are_the_ones_its_schema_carries(table):
    schema = contract.schema_for(table)
    assert schema.name == table
    assert contract.key_of(table) == schema.metadata["key"]
    assert contract.foreign_keys_of(table) == schema.metadata["foreign_keys"]
    assert contract.time_column_of(table) == schema.metadata["time_column"]
    assert schema.unique == (list(contract.key_of(table)) or None)


def test_when_the_tables_are_listed_then_the_names_and_the_schemas_agree():
    assert tuple(contract.TABLES) == contract.TABLE_NAMES
    assert contract.TABLE_NAMES == ("events", "orders", "sellers", "surveys", "markets", "benchmarks", "initiatives")
    assert [contract.TABLES["events"], contract.TABLES["initiatives"]] == [contract.EVENTS, contract.INITIATIVES]


def test_when_a_table_is_unknown_then_every_lookup_names_the_known_tables():
    from analysis.errors import ParameterError

    for lookup in (contract.schema_for, contract.key_of, contract.foreign_keys_of, contract.time_column_of):
        with pytest.raises(ParameterError, match="unknown table 'refunds'.*'benchmarks', 'events'") as caught:
            lookup("refunds")
        assert caught.value.parameter == "table"
    with pytest.raises(AttributeError):
        contract.REFUNDS  # noqa: B018


def _rc_after(apply) -> dict[str, object]:
    with matplotlib.rc_context():
        matplotlib.rcParams.update(matplotlib.rcParamsDefault)
        apply()
        return dict(matplotlib.rcParams)


def test_when_the_theme_is_applied_then_every_setting_is_seaborns_plus_the_workbooks():
    sns = pytest.importorskip("seaborn")
    codes = {code: matplotlib.colors.to_rgb(code) for code in "bgrmyck"}
    try:
        expected = _rc_after(lambda: sns.set_theme(context="notebook", style="whitegrid", palette="colorblind"))
        expected_codes = {code: matplotlib.colors.to_rgb(code) for code in codes}
        for code, rgb in codes.items():  # back to matplotlib's, so that the theme sets them itself
            matplotlib.colors.colorConverter.colors[code] = rgb
        actual = _rc_after(theme.use_report_theme)
        actual_codes = {code: matplotlib.colors.to_rgb(code) for code in codes}
    finally:
        for code, rgb in codes.items():
            matplotlib.colors.colorConverter.colors[code] = rgb
    expected |= {
        "figure.dpi": 96.0,
        "savefig.dpi": 96.0,
        "figure.figsize": [9.0, 4.0],
        "axes.titlesize": "medium",
        "axes.titleweight": "bold",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "image.cmap": matplotlib.rcParamsDefault["image.cmap"],  # seaborn's rocket exists only once it is imported
    }
    differing = {key: (expected[key], actual[key]) for key in expected if expected[key] != actual[key]}
    assert differing == {}
    assert actual_codes == expected_codes
    assert actual_codes["r"] == (0xD5 / 255, 0x5E / 255, 0x00 / 255)  # colorblind's vermilion, not matplotlib's red


@pytest.mark.parametrize("count", [None, 1, 3, 10, 13])
def test_when_colours_are_asked_then_they_are_seaborns_palettes(count):
    sns = pytest.importorskip("seaborn")
    assert theme.accent_colours(count) == list(sns.color_palette(theme.ACCENT_PALETTE, count))
    assert theme.series_colours(count) == list(sns.color_palette(theme.PALETTE, count))


def test_when_the_accent_colours_are_read_then_the_fixed_role_colours_are_among_them():
    hexes = [matplotlib.colors.to_hex(colour).upper() for colour in theme.accent_colours()]
    assert hexes[0] == theme.BAR_COLOUR and hexes[2] == theme.SECOND_BAR_COLOUR
    assert len(hexes) == 10
