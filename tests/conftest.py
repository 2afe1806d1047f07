"""Shared test settings. Helpers (the op table, numeric differentiation) live in
tests/ beside the tests, importable because pyproject puts tests/ on the path."""

import os

from hypothesis import settings

# Hypothesis profiles: `default` is CI-sized; `thorough` is for a long run before closing an issue:
#   HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_fuzz_*.py   (or --hypothesis-profile=thorough)
settings.register_profile("default", max_examples=100)
settings.register_profile("thorough", max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
