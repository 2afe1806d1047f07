"""examples/train_cnn.py at smoke size: SimpleConvNet learns the digits in three epochs and draws its filters."""

from examples_loader import load_example


def test_three_epochs_learn_and_draw_the_filters(tmp_path):
    module = load_example("train_cnn")
    result = module.main(["--epochs", "3", "--out", str(tmp_path), "--no-progress"])
    assert result["accuracy"] > 0.9
    assert result["losses"][-20:].mean() < result["losses"][:20].mean() / 3
    assert result["before"].shape == (30, 1, 5, 5) and (result["before"] != result["after"]).any()
    assert (tmp_path / "cnn-filters.png").stat().st_size > 10_000


def test_shifts_move_each_image_by_one_pixel_at_most_with_zeros_coming_in():
    import numpy as np

    module = load_example("train_cnn")
    x = np.random.default_rng(0).random((40, 1, 8, 8)) + 1  # no zeros of its own
    out = module.shifted(x, np.random.default_rng(1))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    seen = set()
    for a, b in zip(padded, out):
        offsets = [(dy, dx) for dy in range(3) for dx in range(3) if np.array_equal(a[:, dy:dy + 8, dx:dx + 8], b)]
        assert len(offsets) == 1
        seen.add(offsets[0])
    assert len(seen) > 4  # the offsets vary from image to image


def test_validate_trains_on_the_training_part_only_and_draws_nothing(tmp_path):
    module = load_example("train_cnn")
    result = module.main(["--validate", "--epochs", "1", "--out", str(tmp_path), "--no-progress"])
    assert len(result["curve"]) == 1 and result["accuracy"] == result["curve"][0] > 0.5
    assert "X_test" not in result and not list(tmp_path.iterdir())
