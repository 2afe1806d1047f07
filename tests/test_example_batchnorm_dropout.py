"""examples/batchnorm_dropout.py at smoke size (the full run, minutes, with REVGRAPH_SLOW=1): the figures are
drawn, batch norm trains where the narrow initialisation leaves the plain net stuck, dropout runs its masks."""

import os

import numpy as np
import pytest

from examples_loader import load_example


def test_a_short_run_draws_both_figures(tmp_path):
    module = load_example("batchnorm_dropout")
    result = module.main(["--epochs", "3", "--scales", "2", "--out", str(tmp_path), "--no-progress"])
    for name in ("batchnorm.png", "dropout.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    bn = result["batchnorm"]
    assert bn["stds"] == [1.0, 0.001] and set(bn["curves"]) == {(s, b) for s in bn["stds"] for b in (True, False)}
    assert all(len(c) == 4 and all(0 <= a <= 1 for a in c) for c in bn["curves"].values())
    assert bn["curves"][(1.0, True)][-1] > bn["curves"][(1.0, False)][-1], "batch norm trains from W ~ N(0, 1)"
    curves = result["dropout"]["curves"]
    assert set(curves) == {0.0, 0.15} and all(len(c["train"]) == len(c["test"]) == 4 for c in curves.values())


@pytest.mark.skipif(os.environ.get("REVGRAPH_SLOW") != "1", reason="the full-size run takes minutes: REVGRAPH_SLOW=1")
def test_the_full_run_shows_what_the_book_shows(tmp_path):
    result = load_example("batchnorm_dropout").main(["--out", str(tmp_path), "--no-progress"])
    curves = result["dropout"]["curves"]
    plain, dropped = curves[0.0], curves[0.15]
    assert plain["train"][-1] > 0.99, "the deep net memorises its 300 images"
    assert plain["train"][-1] - plain["test"][-1] > dropped["train"][-1] - dropped["test"][-1], "dropout narrows the gap"
    bn = result["batchnorm"]["curves"]
    assert np.mean([bn[(s, True)][-1] for s in result["batchnorm"]["stds"]]) > \
        np.mean([bn[(s, False)][-1] for s in result["batchnorm"]["stds"]])
