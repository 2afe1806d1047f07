"""Shared test settings. Helpers (the op table, numeric differentiation) live in
tests/ beside the tests, importable because pyproject puts tests/ on the path."""
