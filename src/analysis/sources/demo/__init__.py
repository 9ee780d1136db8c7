"""The deterministic demo data: a handmade-goods marketplace with planted, documented effects.

``design`` holds the planted truths, ``clickstream`` the events, ``commerce`` sellers, orders and surveys, ``panels``
the reference tables (markets, benchmarks, initiatives) and ``writer`` puts them together and writes the files.
"""

from analysis.sources.demo.design import PLANTED_EFFECTS
from analysis.sources.demo.writer import (
    DEFAULT_SEED,
    DEFAULT_USERS,
    DemoDataError,
    generate_demo_tables,
    write_demo_data,
)

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_USERS",
    "PLANTED_EFFECTS",
    "DemoDataError",
    "generate_demo_tables",
    "write_demo_data",
]
