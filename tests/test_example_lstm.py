"""examples/lstm_sine.py at smoke size: static and dynamic training agree, and rg.compare agrees on one window."""

import numpy as np

from examples_loader import load_example


def test_one_epoch_static_equals_dynamic(tmp_path):
    module = load_example("lstm_sine")
    result = module.main(["--epochs", "1", "--points", "150", "--out", str(tmp_path), "--no-progress"])
    np.testing.assert_allclose(result["static"]["losses"], result["dynamic"]["losses"], rtol=1e-9)
    np.testing.assert_allclose(result["static"]["prediction"], result["dynamic"]["prediction"], rtol=1e-8, atol=1e-12)
    assert result["agree"] and result["figure"].stat().st_size > 10_000
