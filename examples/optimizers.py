"""The book's chapter 6 comparison of optimizers, with revgraph computing every gradient.

Figure 6-8: the paths of SGD, Momentum, AdaGrad and Adam on f(x, y) = x²/20 + y² from (-7, 2).
Figure 6-9: the training loss of the four on a 5-layer ReLU network (100 units per hidden layer), here on
scikit-learn's bundled 8x8 digits (the book uses MNIST).

    pip install -e ".[examples]"
    python examples/optimizers.py                  # writes optimizers-paths.png and optimizers-digits.png here
    python examples/optimizers.py --iterations 50 --out /tmp
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

import revgraph as rg

# The learning rates of the book's figure 6-8 (ch06/optimizer_compare_naive.py).
PATH_OPTIMIZERS = {"SGD": lambda: rg.optim.SGD(lr=0.95), "Momentum": lambda: rg.optim.Momentum(lr=0.1),
                   "AdaGrad": lambda: rg.optim.AdaGrad(lr=1.5), "Adam": lambda: rg.optim.Adam(lr=0.3)}
# Figure 6-9 uses each optimizer's defaults.
TRAIN_OPTIMIZERS = {"SGD": rg.optim.SGD, "Momentum": rg.optim.Momentum, "AdaGrad": rg.optim.AdaGrad,
                    "Adam": rg.optim.Adam}


def paths(steps: int = 30) -> dict[str, np.ndarray]:
    """Each optimizer's path from (-7, 2); the gradient of f comes from a compiled revgraph step."""
    g = rg.Graph("f")
    x, y = g.input("x"), g.input("y")
    step = rg.compile(x ** 2 / 20.0 + y ** 2, wrt=[x, y])
    out = {}
    for name, make in PATH_OPTIMIZERS.items():
        opt, params = make(), {"x": np.array(-7.0), "y": np.array(2.0)}
        trail = [(-7.0, 2.0)]
        for _ in range(steps):
            step.forward(**params)
            opt.update(params, dict(zip(["x", "y"], step.backward())))
            trail.append((float(params["x"]), float(params["y"])))
        out[name] = np.array(trail)
    return out


def digits_losses(iterations: int = 2000, batch_size: int = 128, seed: int = 0, progress: bool = True) -> dict:
    """Training loss per iteration of each optimizer on the same 5-layer net and the same batches."""
    from sklearn.datasets import load_digits

    X, t = load_digits(return_X_y=True)
    X = X / 16.0
    losses = {}
    for name, make in TRAIN_OPTIMIZERS.items():
        rng = np.random.default_rng(seed)
        sizes = [64, 100, 100, 100, 100, 10]
        layers = []
        for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
            layers.append(rg.nn.Linear(a, b, rng=rng))
            if i < len(sizes) - 2:
                layers.append(rg.nn.ReLU())
        model = rg.nn.Sequential(*layers)
        g = rg.Graph("five_layer_net")
        x, labels = g.input("x", shape=(None, 64)), g.input("t", shape=(None,), dtype="int64")
        loss = rg.softmax_cross_entropy(model(x), labels)
        step = rg.compile(loss, wrt=list(model.inputs(g).values()))
        opt, names, curve = make(), list(model.params), []
        batches = np.random.default_rng(seed + 1)
        for _ in tqdm(range(iterations), desc=name, disable=not progress):
            idx = batches.choice(len(X), batch_size)
            curve.append(float(step.forward(x=X[idx], t=t[idx], **model.params)))
            opt.update(model.params, dict(zip(names, step.backward())))
        losses[name] = np.array(curve)
    return losses


def plot(trails: dict, losses: dict, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    fig, axes = plt.subplots(2, 2, figsize=(8, 6))
    xs, ys = np.meshgrid(np.arange(-10, 10, 0.05), np.arange(-5, 5, 0.05))
    for ax, (name, trail) in zip(axes.ravel(), trails.items()):
        ax.contour(xs, ys, xs ** 2 / 20 + ys ** 2, levels=[0.5, 1, 2, 4, 8, 16, 32], colors="#bbbbbb", linewidths=0.8)
        ax.plot(trail[:, 0], trail[:, 1], "o-", color="#c0392b", ms=3, lw=1)
        ax.plot(0, 0, "+", color="black")
        ax.set(title=name, xlim=(-10, 10), ylim=(-5, 5), xlabel="x", ylabel="y")
    fig.suptitle("Figure 6-8: paths on f(x, y) = x²/20 + y² from (-7, 2)")
    fig.tight_layout()
    files.append(out / "optimizers-paths.png")
    fig.savefig(files[-1], dpi=110)
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, curve in losses.items():
        smooth = np.convolve(curve, np.ones(10) / 10, mode="valid") if len(curve) >= 10 else curve
        ax.plot(smooth, label=name, lw=1)
    ax.set(title="Figure 6-9: training loss on digits (5-layer ReLU net)", xlabel="iteration", ylabel="loss",
           ylim=(0, None))
    ax.legend()
    fig.tight_layout()
    files.append(out / "optimizers-digits.png")
    fig.savefig(files[-1], dpi=110)
    plt.close("all")
    return files


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000, help="training iterations per optimizer (default 2000)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent, help="where to write the figures")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    trails = paths()
    losses = digits_losses(args.iterations, progress=not args.no_progress)
    args.out.mkdir(parents=True, exist_ok=True)
    for f in plot(trails, losses, args.out):
        print(f"wrote {f}")
    for name, trail in trails.items():
        print(f"{name:9s} path ends at ({trail[-1, 0]:+.4f}, {trail[-1, 1]:+.4f})")
    for name, curve in losses.items():
        print(f"{name:9s} loss: first {curve[:10].mean():.3f}, last {curve[-10:].mean():.4f}")
    return {"paths": trails, "losses": losses}


if __name__ == "__main__":
    main()
