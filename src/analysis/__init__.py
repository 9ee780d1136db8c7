"""The E-commerce Strategy Workbook: data contract, sources, metrics, presentation and the report pipeline."""

import warnings

# pandera imports pyspark.pandas when PySpark is installed (the test environment has it for the Spark check); its
# pandas-3 notice says nothing about the workbook's own results and would otherwise print into every report.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
