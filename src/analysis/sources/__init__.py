"""Sources: the backend connection, the workbook's files, foreign formats, validation and demo data.

Nothing else in the workbook touches raw files.
"""

from analysis.errors import DataFileError, ValidationError
from analysis.sources.connection import connect
from analysis.sources.events import EventsSource, open_events, validate_ga4_export
from analysis.sources.files import find_table_files, load_tables
from analysis.sources.formats.benchmark_sheet import import_benchmarks, read_benchmark_mapping, read_benchmark_sheet
from analysis.sources.formats.ga4 import read_ga4_export
from analysis.sources.formats.hofstede import read_hofstede
from analysis.sources.formats.world_bank import read_world_bank_csv
from analysis.sources.prepared import PreparedData, prepare_data, validate_data_dir
from analysis.sources.validate import ValidationReport, Violation

__all__ = [
    "DataFileError",
    "EventsSource",
    "PreparedData",
    "ValidationError",
    "ValidationReport",
    "Violation",
    "connect",
    "find_table_files",
    "import_benchmarks",
    "load_tables",
    "open_events",
    "prepare_data",
    "read_benchmark_mapping",
    "read_benchmark_sheet",
    "read_ga4_export",
    "read_hofstede",
    "read_world_bank_csv",
    "validate_data_dir",
    "validate_ga4_export",
]
