"""Adapters for foreign formats: a GA4 BigQuery export, Hofstede's file, World Bank CSVs."""
