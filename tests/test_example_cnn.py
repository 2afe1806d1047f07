"""examples/train_cnn.py at smoke size: SimpleConvNet learns the digits in two epochs and draws its filters."""

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "train_cnn.py"


def test_two_epochs_learn_and_draw_the_filters(tmp_path):
    spec = importlib.util.spec_from_file_location("train_cnn_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.main(["--epochs", "2", "--out", str(tmp_path), "--no-progress"])
    assert result["accuracy"] > 0.9
    assert result["losses"][-20:].mean() < result["losses"][:20].mean() / 3
    assert result["before"].shape == (30, 1, 5, 5) and (result["before"] != result["after"]).any()
    assert (tmp_path / "cnn-filters.png").stat().st_size > 10_000
