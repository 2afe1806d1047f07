"""The book's SimpleConvNet (chapter 7), trained on the bundled 8x8 digits, with its first-layer filters drawn.

conv 30 filters 5x5 (pad 2) -> ReLU -> max pool 2x2 -> Affine 100 -> ReLU -> Affine 10 -> softmax-with-loss,
built from rg.nn layers, compiled once as a static step, trained with Adam (weight decay 1e-3, the book's ch. 6 regulariser) on mini-batches of 50. The held-out
20% of the data set (stratified) gives the accuracy; figure 7-24's picture of the filters before and after
training is written next to this script (or to --out):

    pip install -e ".[examples]"
    python examples/train_cnn.py                 # test accuracy: 98.x%
    python examples/train_cnn.py --epochs 2      # a quick look
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

import revgraph as rg


def load_data(seed: int = 0) -> tuple:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).reshape(-1, 1, 8, 8)
    return train_test_split(X, y.astype(np.int64), test_size=0.2, random_state=seed, stratify=y)


def simple_conv_net(rng: np.random.Generator) -> rg.nn.Sequential:
    """The book's network, with He initialisation (the book's SimpleConvNet starts from N(0, 0.01²); on these
    small images that trains slower, see the closing note of the training issue)."""
    return rg.nn.Sequential(
        rg.nn.Conv2d(1, 30, 5, pad=2, rng=rng), rg.nn.ReLU(), rg.nn.MaxPool2d(2), rg.nn.Flatten(),
        rg.nn.Linear(30 * 4 * 4, 100, rng=rng), rg.nn.ReLU(), rg.nn.Linear(100, 10, rng=rng))


def train(epochs: int = 20, batch_size: int = 50, lr: float = 0.001, seed: int = 0, progress: bool = True,
          weight_decay: float = 1e-3) -> dict:
    """Train; return the test accuracy, the loss per step, and the filters before and after."""
    rng = np.random.default_rng(seed)
    X_train, X_test, t_train, t_test = load_data(seed)
    model = simple_conv_net(rng)
    g = rg.Graph("simple_conv_net")
    x, t = g.input("x", shape=(None, 1, 8, 8)), g.input("t", shape=(None,), dtype="int64")
    scores = model(x)
    step = rg.compile(rg.softmax_cross_entropy(scores, t), wrt=list(model.inputs(g).values()))
    predict = rg.compile(rg.argmax(scores, axis=1))
    opt, names = rg.optim.Adam(lr=lr, weight_decay=weight_decay), list(model.params)
    before = model.params["0.W"].copy()
    losses = []
    batches = -(-len(X_train) // batch_size)
    with tqdm(total=epochs * batches, disable=not progress, unit="step") as bar:
        for epoch in range(epochs):
            order = rng.permutation(len(X_train))
            for i in range(batches):
                idx = order[i * batch_size:(i + 1) * batch_size]
                losses.append(float(step.forward(x=X_train[idx], t=t_train[idx], **model.params)))
                opt.update(model.params, dict(zip(names, step.backward())))
                bar.update()
            bar.set_description(f"epoch {epoch + 1}/{epochs}")
            bar.set_postfix(loss=f"{np.mean(losses[-batches:]):.4f}")
    accuracy = float(np.mean(predict(x=X_test, **model.params) == t_test))
    return {"accuracy": accuracy, "losses": np.array(losses), "before": before, "after": model.params["0.W"].copy()}


def draw_filters(before: np.ndarray, after: np.ndarray, path: Path) -> Path:
    """Figure 7-24: the 30 first-layer filters (5x5), before and after training."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(6, 10, figsize=(8, 5.2))
    for row, (filters, title) in enumerate([(before, "before"), (after, "after")]):
        for i in range(30):
            ax = axes[row * 3 + i // 10, i % 10]
            ax.imshow(filters[i, 0], cmap="gray_r", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row * 3, 0].set_title(f"{title} training", loc="left", fontsize=10)
    fig.suptitle("SimpleConvNet's first-layer filters (figure 7-24)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--weight-decay", type=float, default=1e-3, help="L2 weight decay (default 1e-3)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    result = train(args.epochs, seed=args.seed, progress=not args.no_progress, weight_decay=args.weight_decay)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"wrote {draw_filters(result['before'], result['after'], args.out / 'cnn-filters.png')}")
    print(f"test accuracy: {result['accuracy']:.1%}")
    print(f"wall time: {time.perf_counter() - start:.1f} s")
    return result


if __name__ == "__main__":
    main()
