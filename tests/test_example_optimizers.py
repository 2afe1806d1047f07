"""examples/optimizers.py at smoke size: the book's figure 6-8 paths and a short figure 6-9 run, written as PNGs."""

import numpy as np

from examples_loader import load_example


def test_paths_and_losses_at_smoke_size(tmp_path):
    result = load_example("optimizers").main(["--iterations", "40", "--out", str(tmp_path), "--no-progress"])
    for name in ("optimizers-paths.png", "optimizers-digits.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    start = np.hypot(-7.0, 2.0)
    for name, trail in result["paths"].items():
        assert trail.shape == (31, 2) and np.hypot(*trail[-1]) < start / 5, name   # all four head for the minimum
    assert abs(result["paths"]["AdaGrad"][-1, 1]) < 1e-3   # AdaGrad damps the steep y direction first (fig. 6-8)
    for name, curve in result["losses"].items():
        assert curve[-10:].mean() < curve[:10].mean(), name
