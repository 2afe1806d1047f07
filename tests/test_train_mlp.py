"""examples/train_mlp.py: a shortened training run (3 epochs) already classifies held-out digits.
Needs the `examples` extra (scikit-learn, tqdm): pip install -e ".[test,examples]"."""

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "train_mlp.py"


def load_example():
    spec = importlib.util.spec_from_file_location("train_mlp", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_short_run_reaches_85_percent_test_accuracy():
    accuracy = load_example().train(epochs=3, seed=0, progress=False)
    assert accuracy >= 0.85


def test_the_step_trains_in_float32_and_the_split_is_held_out():
    ex = load_example()
    X_train, X_test, y_train, y_test = ex.load_data(seed=0)
    assert X_train.dtype == np.float32 and len(X_test) == 360 and len(X_train) == 1437   # 20% of 1797 held out
    step, predict = ex.build()
    params = ex.init_params(np.random.default_rng(0))
    loss, grads = step.value_and_grad(x=X_train[:32], t=y_train[:32], **params)
    assert loss.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)
    assert abs(float(loss) - np.log(10)) < 1.0          # an untrained net is close to chance
    assert predict(x=X_test, **params).shape == (360,)
