"""examples/lstm_sine.py at smoke size: static and dynamic training agree, and rg.compare agrees on one window."""

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "lstm_sine.py"


def test_one_epoch_static_equals_dynamic(tmp_path):
    spec = importlib.util.spec_from_file_location("lstm_sine_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--epochs", "1", "--points", "150", "--out", str(tmp_path), "--no-progress"])
    np.testing.assert_allclose(result["static"]["losses"], result["dynamic"]["losses"], rtol=1e-9)
    np.testing.assert_allclose(result["static"]["prediction"], result["dynamic"]["prediction"], rtol=1e-8, atol=1e-12)
    assert result["agree"] and result["figure"].stat().st_size > 10_000
