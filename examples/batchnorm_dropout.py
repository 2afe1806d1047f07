"""The book's chapter 6 figures on batch normalisation and dropout, trained with revgraph's fused steps.

Figure 6-18: training accuracy of a 5-layer ReLU network (100 units per hidden layer) with and without batch
norm, for several weight-initialisation scales (the std of every weight matrix), SGD, mini-batches of 100
from 1 000 training images. Figures 6-23/6-24: train and test accuracy of a deep network (6 hidden
layers of 100) trained on only 300 images, without and with dropout (p = 0.15): without it the training
accuracy runs to 100% and the test accuracy stalls well below (overfitting); with it the gap narrows.

The book uses MNIST and SGD's lr 0.01; here scikit-learn's bundled 8x8 digits, on which lr 0.01 barely moves in
these few steps, so lr 0.1. Every step is one compiled program
(``opt.compile(loss, model)``): loss, gradients, the SGD update and BatchNorm's running averages, in place.
Accuracies are measured in evaluation mode (running averages, no dropout) on NumPy arrays.

    pip install -e ".[examples]"
    python examples/batchnorm_dropout.py              # writes batchnorm.png and dropout.png next to this script
    python examples/batchnorm_dropout.py --epochs 3 --scales 2 --out /tmp
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

import revgraph as rg

LR = 0.1


def load_data(seed: int = 0) -> tuple:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y.astype(np.int64), test_size=0.3, random_state=seed, stratify=y)


def mlp(hidden: int, layers: int, *, batch_norm: bool = False, dropout: float = 0.0, std: float | None = None,
        rng: np.random.Generator) -> rg.nn.Sequential:
    """64 -> ``layers`` hidden layers of ``hidden`` (Affine, [BatchNorm], ReLU, [Dropout]) -> 10.
    ``std``: every weight drawn from N(0, std²) (the book's weight_init_std); None: He initialisation."""
    parts, width = [], 64
    for _ in range(layers):
        parts.append(rg.nn.Linear(width, hidden, rng=rng))
        parts += [rg.nn.BatchNorm(hidden)] if batch_norm else []
        parts.append(rg.nn.ReLU())
        parts += [rg.nn.Dropout(dropout)] if dropout else []
        width = hidden
    parts.append(rg.nn.Linear(width, 10, rng=rng))
    model = rg.nn.Sequential(*parts)
    if std is not None:
        for name, W in model.params.items():
            if name.endswith(".W"):
                W[...] = rng.standard_normal(W.shape) * std
    return model


def accuracy(model: rg.nn.Module, X: np.ndarray, t: np.ndarray) -> float:
    """In evaluation mode, on arrays (no graph): BatchNorm's running averages, dropout off."""
    model.eval()
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.mean(np.argmax(model(X), axis=1) == t))
    finally:
        model.train()


def train(model: rg.nn.Module, X: np.ndarray, t: np.ndarray, epochs: int, batch_size: int, lr: float,
          rng: np.random.Generator, bar: tqdm, test: tuple | None = None) -> dict:
    """SGD with one fused step per mini-batch; the train (and test) accuracy after every epoch."""
    g = rg.Graph("mlp")
    x, labels = g.input("x", shape=(None, 64)), g.input("t", shape=(None,), dtype="int64")
    step = rg.optim.SGD(lr=lr).compile(rg.softmax_cross_entropy(model(x), labels), model)
    curves: dict = {"train": [accuracy(model, X, t)], "test": [accuracy(model, *test)] if test else []}
    for _ in range(epochs):
        order = rng.permutation(len(X))
        # (Without batch norm, the widest initialisations overflow to inf/nan: the book's flat curves at 10%.)
        for i in range(0, len(X), batch_size):
            idx = order[i:i + batch_size]
            with np.errstate(over="ignore", invalid="ignore"):
                step(x=X[idx], t=t[idx])
            bar.update()
        curves["train"].append(accuracy(model, X, t))
        if test:
            curves["test"].append(accuracy(model, *test))
    return curves


def batchnorm_figure(scales: int = 4, epochs: int = 20, seed: int = 0, progress: bool = True) -> dict:
    """Figure 6-18: train accuracy per epoch with and without batch norm, per weight-init scale."""
    X_train, _, t_train, _ = load_data(seed)
    X_train, t_train = X_train[:1000], t_train[:1000]
    stds = np.logspace(0, -3, scales)
    results = {}
    steps = scales * 2 * epochs * -(-len(X_train) // 100)
    with tqdm(total=steps, disable=not progress, unit="step", desc="batch norm") as bar:
        for std in stds:
            for bn in (True, False):
                rng = np.random.default_rng(seed)
                model = mlp(100, 5, batch_norm=bn, std=float(std), rng=rng)
                results[(float(std), bn)] = train(model, X_train, t_train, epochs, 100, LR, rng, bar)["train"]
    return {"stds": [float(s) for s in stds], "curves": results}


def dropout_figure(epochs: int = 100, p: float = 0.15, seed: int = 0, progress: bool = True) -> dict:
    """Figures 6-23/6-24: train and test accuracy of a deep net on 300 images, without and with dropout."""
    X_train, X_test, t_train, t_test = load_data(seed)
    X_train, t_train = X_train[:300], t_train[:300]
    rg.seed(seed)  # dropout's masks
    results = {}
    steps = 2 * epochs * -(-len(X_train) // 100)
    with tqdm(total=steps, disable=not progress, unit="step", desc="dropout") as bar:
        for ratio in (0.0, p):
            rng = np.random.default_rng(seed)
            model = mlp(100, 6, dropout=ratio, rng=rng)
            results[ratio] = train(model, X_train, t_train, epochs, 100, LR, rng, bar, test=(X_test, t_test))
    return {"p": p, "curves": results}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def draw_batchnorm(result: dict, path: Path) -> Path:
    plt = _pyplot()
    stds = result["stds"]
    cols = min(3, len(stds))
    rows = -(-len(stds) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False, sharey=True)
    for ax, std in zip(axes.flat, stds):
        ax.plot(result["curves"][(std, True)], label="batch norm", color="C0")
        ax.plot(result["curves"][(std, False)], "--", label="no batch norm", color="C1")
        ax.set_title(f"W ~ N(0, {std:.3g}²)", fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("epoch", fontsize=8)
    for ax in axes.flat[len(stds):]:
        ax.axis("off")
    axes[0, 0].set_ylabel("train accuracy")
    axes[0, 0].legend(fontsize=8, loc="lower right")
    fig.suptitle(f"Batch norm and the weight-init scale (figure 6-18): 5 layers of 100, SGD lr {LR}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def draw_dropout(result: dict, path: Path) -> Path:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for ax, (ratio, curves) in zip(axes, result["curves"].items()):
        ax.plot(curves["train"], label="train", color="C0")
        ax.plot(curves["test"], label="test", color="C1")
        gap = curves["train"][-1] - curves["test"][-1]
        ax.set_title(("no dropout" if not ratio else f"dropout p = {ratio}") + f" (final gap {gap:.1%})", fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="lower right")
    fig.suptitle("Overfitting on 300 images, 6 hidden layers of 100 (figures 6-23, 6-24)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help="epochs of both figures (default 20 and 100)")
    parser.add_argument("--scales", type=int, default=4, help="weight-init scales of figure 6-18 (default 4)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    progress = not args.no_progress
    bn = batchnorm_figure(args.scales, args.epochs or 20, args.seed, progress)
    do = dropout_figure(args.epochs or 100, seed=args.seed, progress=progress)
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"wrote {draw_batchnorm(bn, args.out / 'batchnorm.png')}")
    print(f"wrote {draw_dropout(do, args.out / 'dropout.png')}")
    for ratio, curves in do["curves"].items():
        print(f"dropout p={ratio}: train {curves['train'][-1]:.1%}, test {curves['test'][-1]:.1%}")
    print(f"wall time: {time.perf_counter() - start:.1f} s")
    return {"batchnorm": bn, "dropout": do}


if __name__ == "__main__":
    main()
