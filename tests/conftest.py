"""Shared test settings. Helpers (the op table, numeric differentiation) live in
tests/ beside the tests, importable because pyproject puts tests/ on the path.

Hypothesis profiles: ``default`` keeps the property suite small enough for CI;
``thorough`` runs 50x more examples (``pytest --hypothesis-profile=thorough``)."""

import os

from hypothesis import HealthCheck, settings

PROPERTY_EXAMPLES = 200
_common = dict(deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# In CI (CI=true) the default run is derandomised, so a submission's result does not depend on the draw;
# local runs and the thorough profile keep exploring new examples.
settings.register_profile("default", max_examples=PROPERTY_EXAMPLES, derandomize=os.environ.get("CI") == "true",
                          **_common)
settings.register_profile("thorough", max_examples=50 * PROPERTY_EXAMPLES, **_common)
# HYPOTHESIS_PROFILE=thorough works too (the README's fuzzing command uses it).
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
