import pathlib
import sys

# Shared test helpers (the op table, numeric differentiation) live beside the tests.
sys.path.insert(0, str(pathlib.Path(__file__).parent))
