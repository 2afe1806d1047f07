"""pytest plugin: collect the repository root as a plain directory, not a package.

The repository root is the package (it holds revgraph's __init__.py). pytest
would treat it as a test package and import that __init__.py on its own,
outside any parent package, where its relative imports fail. The tests import
the installed ``revgraph`` instead.
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_collect_directory(path, parent):
    if Path(path).resolve() == ROOT:
        return pytest.Dir.from_parent(parent, path=path)
    return None
