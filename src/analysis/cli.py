"""The ``workbook`` command: thin wrappers around the package's public functions.

Every subcommand runs inside one handler in :func:`main`: a :class:`~analysis.errors.WorkbookError` is printed to
stderr as ``workbook: <message>`` without a traceback, and the command exits with the error's ``exit_code`` (2 for
usage and configuration, a reports folder that cannot be written included; 1 for bad data and failed reports).
A run stopped by Ctrl-C or SIGTERM exits with 128 + the signal number (130, 143). Any other exception is a bug and
keeps its traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from analysis import config
from analysis.errors import ReportError, WorkbookError

PROGRAM = "workbook"


def _validate(args: argparse.Namespace) -> int:
    from analysis.sources import validate_data_dir, validate_ga4_export

    report = validate_ga4_export(args.data_dir) if args.ga4 else validate_data_dir(args.data_dir)
    print(report.to_text())
    return 0 if report.ok else 1


def _demo_data(args: argparse.Namespace) -> int:
    from analysis.sources.demo import write_demo_data

    sizes = {name: value for name, value in (("users", args.users), ("seed", args.seed)) if value is not None}
    written = write_demo_data(args.out, **sizes)
    for table, path in written.items():
        print(f"{table:<12} {path}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from analysis.pipeline import load_run_config, run_reports

    run_config = load_run_config(args.config, engine=args.engine)
    result = run_reports(run_config, markets=args.market, notebooks=args.notebook, jobs=args.jobs)
    print(f"reports: {result.run_dir}")
    if result.interrupted:
        made = sum(1 for r in result.results if r.status == "ok")
        signal_name = signal.Signals(result.stop_signal or signal.SIGINT).name
        print(f"{PROGRAM}: run {result.run_id} interrupted by {signal_name} ({made} report(s) made)", file=sys.stderr)
        return 128 + (result.stop_signal or signal.SIGINT)  # the shell's convention for a signalled command
    if result.failed:
        names = ", ".join(f"{r.notebook} [{r.market}]" for r in result.failed)
        raise ReportError(
            f"{len(result.failed)} report(s) failed: {names}",
            file=result.run_dir,
            value=[f"{r.notebook}/{r.market}" for r in result.failed],
        )
    return 0


def _list(args: argparse.Namespace) -> int:
    from analysis.contract import ALL_MARKETS
    from analysis.pipeline import load_run_config

    run_config = load_run_config(args.config)
    for item in run_config.notebooks:
        scope = ", ".join(run_config.markets) if item.per_market else f"once ({ALL_MARKETS})"
        print(f"{item.notebook:<28} {scope}")
    return 0


def _import_benchmarks(args: argparse.Namespace) -> int:
    from analysis.sources import import_benchmarks

    import_benchmarks(args.file, args.mapping, args.out, echo=print)
    return 0


def _export(args: argparse.Namespace) -> int:
    from analysis.pipeline.export import export_run
    from analysis.pipeline.paths import parameter_path

    both = not (args.xlsx or args.pptx)  # neither asked: both
    for path in export_run(args.run, args.reports_dir, xlsx=args.xlsx or both, pptx=args.pptx or both, out=args.out):
        print(parameter_path(path))  # relative to the project when inside it
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``workbook`` argument parser; each subcommand stores its handler as ``handler``."""
    parser = argparse.ArgumentParser(prog=PROGRAM, description="E-commerce strategy workbook")
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check a data directory against the data contract")
    validate.add_argument("data_dir", type=Path, help="folder with events.parquet, markets.csv, ... (or a GA4 export)")
    validate.add_argument("--ga4", action="store_true", help="DATA_DIR is a GA4 BigQuery export (JSON or parquet)")
    validate.set_defaults(handler=_validate)

    demo = commands.add_parser("demo-data", help="write the deterministic demo data set")
    demo.add_argument("--out", type=Path, default=config.DEMO_DATA_DIR, help="output folder (default data/demo)")
    demo.add_argument("--users", type=int, default=None, help="number of users (about 25 events each)")
    demo.add_argument("--seed", type=int, default=None, help="random seed (same seed, same data)")
    demo.set_defaults(handler=_demo_data)

    run = commands.add_parser("run", help="run the notebooks through Papermill and render HTML reports")
    run.add_argument("--config", type=Path, default=config.RUN_CONFIG, help="run configuration (workbook.yml)")
    run.add_argument("--market", action="append", help="only this market, in any case (repeatable)")
    run.add_argument("--notebook", action="append", help="only this notebook, by name (repeatable)")
    run.add_argument("--jobs", type=int, default=None, help="parallel notebooks (default: one per core)")
    run.add_argument(
        "--engine",
        choices=("duckdb", "pyspark"),
        default=None,
        help="where the notebooks read (default: engine of --config)",
    )
    run.set_defaults(handler=_run)

    sheet = commands.add_parser("import-benchmarks", help="read a benchmark spreadsheet into DATA_DIR/benchmarks.csv")
    sheet.add_argument("file", type=Path, help="the spreadsheet (.csv or .xlsx)")
    sheet.add_argument("--mapping", type=Path, required=True, help="YAML: which columns hold company, period, KPIs")
    sheet.add_argument("--out", type=Path, required=True, help="the client's data folder (benchmarks.csv is merged)")
    sheet.set_defaults(handler=_import_benchmarks)

    export = commands.add_parser("export", help="write a run's tables to Excel and its findings to PowerPoint")
    export.add_argument("run", help="a run id, a run's folder, or 'latest'")
    export.add_argument("--xlsx", action="store_true", help="one sheet per table, a contents and a provenance sheet")
    export.add_argument("--pptx", action="store_true", help="a slide per report's findings and a verdict scorecard")
    export.add_argument("--out", type=Path, default=None, help="output folder (default: the run's folder)")
    export.add_argument("--reports-dir", type=Path, default=config.REPORTS_DIR, help="reports folder (default reports)")
    export.set_defaults(handler=_export)

    listing = commands.add_parser("list", help="show which notebooks run for which markets")
    listing.add_argument("--config", type=Path, default=config.RUN_CONFIG, help="run configuration (workbook.yml)")
    listing.set_defaults(handler=_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``workbook`` command with ``argv`` (the process's arguments when None); return its exit code.

    Argument errors exit through argparse (code 2, with the usage line). A ``WorkbookError`` raised by any
    subcommand is printed by :func:`error_message` to stderr and its ``exit_code`` returned.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except WorkbookError as error:
        print(error_message(error), file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as stop:  # stopped before the run's workers started (or outside a run)
        number = getattr(stop, "signal_number", signal.SIGINT)
        print(f"{PROGRAM}: stopped by {signal.Signals(number).name}", file=sys.stderr)
        return 128 + number


def error_message(error: WorkbookError) -> str:
    """``workbook: <message>``; further lines of the message (one per problem) follow, indented by two spaces."""
    first, *rest = str(error).splitlines() or [type(error).__name__]
    return "\n".join([f"{PROGRAM}: {first}", *(f"  {line}" for line in rest)])


if __name__ == "__main__":
    sys.exit(main())
