"""examples/train_cnn.py at smoke size: SimpleConvNet learns the digits in two epochs and draws its filters."""

from examples_loader import load_example


def test_two_epochs_learn_and_draw_the_filters(tmp_path):
    module = load_example("train_cnn")
    result = module.main(["--epochs", "2", "--out", str(tmp_path), "--no-progress"])
    assert result["accuracy"] > 0.9
    assert result["losses"][-20:].mean() < result["losses"][:20].mean() / 3
    assert result["before"].shape == (30, 1, 5, 5) and (result["before"] != result["after"]).any()
    assert (tmp_path / "cnn-filters.png").stat().st_size > 10_000
