"""Train the textbook's two-layer network on handwritten digits, with plain SGD.

Affine -> ReLU -> Affine -> softmax with cross-entropy, 64 -> 50 -> 10 (the inputs
are 8x8 images), on scikit-learn's bundled digits data set (no download), with
a held-out 20% test split:

    pip install -e ".[examples]"
    python examples/train_mlp.py            # test accuracy: 97.x%  (a few seconds)
    python examples/train_mlp.py --epochs 5 --seed 1

``train(epochs=..., seed=...)`` returns the test accuracy, for tests and notebooks.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from tqdm import tqdm

import revgraph as rg


def load_data(seed: int, dtype: str = "float32") -> tuple:
    """Digits scaled to [0, 1]; a stratified 80/20 train/test split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(dtype)
    return train_test_split(X, y.astype(np.int64), test_size=0.2, random_state=seed, stratify=y)


def build(features: int = 64, hidden: int = 50, classes: int = 10, dtype: str = "float32") -> tuple:
    """The network as a graph: the training step (loss and gradients) and the prediction function."""
    g = rg.Graph("two_layer_net")
    x = g.input("x", shape=(None, features), dtype=dtype)
    t = g.input("t", shape=(None,), dtype="int64")
    W1, b1 = g.input("W1", shape=(features, hidden), dtype=dtype), g.input("b1", shape=(hidden,), dtype=dtype)
    W2, b2 = g.input("W2", shape=(hidden, classes), dtype=dtype), g.input("b2", shape=(classes,), dtype=dtype)
    scores = rg.relu(x @ W1 + b1) @ W2 + b2               # Affine -> ReLU -> Affine
    loss = rg.softmax_cross_entropy(scores, t)            # softmax with cross-entropy, batch mean
    step = rg.compile(loss, wrt=[W1, b1, W2, b2])
    predict = rg.compile(rg.argmax(scores, axis=1))
    return step, predict


def init_params(rng: np.random.Generator, features: int = 64, hidden: int = 50, classes: int = 10,
                dtype: str = "float32") -> dict:
    """He initialisation (suits ReLU); zero biases."""
    return {"W1": (rng.normal(size=(features, hidden)) * np.sqrt(2 / features)).astype(dtype),
            "b1": np.zeros(hidden, dtype),
            "W2": (rng.normal(size=(hidden, classes)) * np.sqrt(2 / hidden)).astype(dtype),
            "b2": np.zeros(classes, dtype)}


def train(epochs: int = 50, batch_size: int = 32, lr: float = 0.1, seed: int = 0, progress: bool = True,
          dtype: str = "float32") -> float:
    """Train with plain SGD; return the accuracy on the held-out 20%.

    >>> train(epochs=3, progress=False) > 0.85
    True
    """
    rng = np.random.default_rng(seed)
    X_train, X_test, y_train, y_test = load_data(seed, dtype)
    step, predict = build(X_train.shape[1], dtype=dtype)
    params = init_params(rng, X_train.shape[1], dtype=dtype)
    names = ["W1", "b1", "W2", "b2"]
    batches = -(-len(X_train) // batch_size)
    running = None
    with tqdm(total=epochs * batches, disable=not progress, unit="step") as bar:
        for epoch in range(epochs):
            order = rng.permutation(len(X_train))
            for i in range(batches):
                idx = order[i * batch_size:(i + 1) * batch_size]
                loss, grads = step.value_and_grad(x=X_train[idx], t=y_train[idx], **params)
                for name, grad in zip(names, grads):
                    params[name] -= lr * grad                      # plain SGD
                running = float(loss) if running is None else 0.95 * running + 0.05 * float(loss)
                bar.update()
            bar.set_description(f"epoch {epoch + 1}/{epochs}")
            bar.set_postfix(loss=f"{running:.4f}")
    return float(np.mean(predict(x=X_test, **params) == y_test))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    accuracy = train(args.epochs, args.batch_size, args.lr, args.seed)
    print(f"test accuracy: {accuracy:.1%}")
    print(f"wall time: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
