"""Sources: the backend connection, the workbook's files, foreign formats, validation and demo data.

Nothing else in the workbook touches raw files.
"""

from analysis.errors import DataFileError, ValidationError
from analysis.sources.connection import ENGINES, connect, open_engine, resolve_engine
from analysis.sources.events import EventsSource, open_events, validate_ga4_export
from analysis.sources.files import find_table_files, load_tables
from analysis.sources.formats.benchmark_sheet import import_benchmarks, read_benchmark_mapping, read_benchmark_sheet
from analysis.sources.formats.ga4 import read_ga4_export
from analysis.sources.formats.hofstede import read_hofstede
from analysis.sources.formats.world_bank import read_world_bank_csv
from analysis.sources.prepared import PreparedData, prepare_data, validate_data_dir
from analysis.sources.spark import catalog_tables, connect_spark, spark_defaults
from analysis.sources.validate import ValidationReport, Violation

__all__ = [
    "ENGINES",
    "DataFileError",
    "EventsSource",
    "PreparedData",
    "ValidationError",
    "ValidationReport",
    "Violation",
    "catalog_tables",
    "connect",
    "connect_spark",
    "find_table_files",
    "import_benchmarks",
    "load_tables",
    "open_engine",
    "open_events",
    "prepare_data",
    "read_benchmark_mapping",
    "read_benchmark_sheet",
    "read_ga4_export",
    "read_hofstede",
    "read_world_bank_csv",
    "resolve_engine",
    "spark_defaults",
    "validate_data_dir",
    "validate_ga4_export",
]
