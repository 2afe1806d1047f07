"""The book's SimpleConvNet (chapter 7), trained on the bundled 8x8 digits, with its first-layer filters drawn.

conv 30 filters 5x5 (pad 2) -> ReLU -> max pool 2x2 -> Affine 100 -> ReLU -> Affine 10 -> softmax-with-loss,
built from rg.nn layers, compiled once as a fused training step (``opt.compile``: loss, gradients and Adam's
update in one program). The recipe (RECIPE below) was chosen on a validation split, never on the test split:

* splits: 20% of the 1797 digits are the test split (stratified, split by --seed); 20% of the rest is split off
  again as a validation split (stratified, the same seed). ``--validate`` trains on the remaining 64% and prints
  the validation accuracy after every epoch. Each candidate recipe ran on seeds 0..9 that way and the one with
  the best mean final validation accuracy won (README has the table). The default run then trains on train +
  validation (80%) with it and measures the test split once.
* augmentation: each image of every mini-batch moves by a random whole pixel (-1, 0 or +1, down and across) --
  label-preserving, the standard trick for digits, and the lever that mattered: mean validation 98.0% -> 98.8%
  at lr 3e-3 (at lr 1e-3 the shifted images need more epochs: 97.7% after 30, 98.4% after 60). So that a shift
  loses no stroke, the digits sit in a frame of one blank pixel (10x10, as MNIST's sit in a 4-pixel frame; the
  pooled map is then 30x5x5 before Affine 100). The frame (98.82% -> 98.96%) and weight decay 3e-4 rather
  than 1e-3 (-> 98.99%, tied with 30 epochs at 1e-3: the worse worst seed, 97.22% vs 97.57%, lost) are
  within the noise: one validation image is 0.35% of a seed's split.
* Adam, lr 3e-3 then 3e-4 for the last quarter of 40 epochs, L2 weight decay 3e-4, mini-batches of 50; the
  filters drawn from N(0, 0.1^2) (the book draws its weights from a small normal; He there: 98.5%), the
  Affine layers He.

Held out (test), seeds 0..9: 99.44 99.17 99.44 99.17 99.44 99.17 99.72 99.44 99.17 98.89% (1 to 4 errors of
360; mean 99.31%); validation 97.6-100%, mean 99.0%. ``--seeds 0 1 2 3 4`` reruns them and prints the spread.
Figure 7-24 -- the filters before and after training on one shared colour scale, and a test digit seen through
each of them -- is written next to this script (or to --out):

    pip install -e ".[examples]"
    python examples/train_cnn.py                 # seed 0: test accuracy 99.44% (2 of 360 wrong)
    python examples/train_cnn.py --seeds 0 1 2 3 4
    python examples/train_cnn.py --validate --seeds 0 1 2 3 4   # the validation curves (test split unused)
    python examples/train_cnn.py --epochs 2      # a quick look
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

import revgraph as rg

RECIPE = {"epochs": 40, "lr": 3e-3, "decay_at": 0.75, "weight_decay": 3e-4, "batch_size": 50, "shift": 1,
          "conv_std": 0.1, "border": 1}
MEASURED = ("measured when the recipe was chosen, test seeds 0..9: 98.89% to 99.72% (1 to 4 of 360 wrong), mean "
            "99.31%; --seeds 0 1 2 3 4 reruns them")
SHOWN = 6  # the figure shows the first test digit of this class through the trained filters


def load_data(seed: int = 0) -> tuple:
    """The digits scaled to [0, 1] as (N, 1, 8, 8): ``X_train, X_test, t_train, t_test`` (20% held out)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return split((X / 16.0).reshape(-1, 1, 8, 8), y.astype(np.int64), seed)


def split(X: np.ndarray, t: np.ndarray, seed: int) -> tuple:
    """Stratified 80/20 split: ``X_a, X_b, t_a, t_b``."""
    from sklearn.model_selection import train_test_split

    return train_test_split(X, t, test_size=0.2, random_state=seed, stratify=t)


def shifted(x: np.ndarray, rng: np.random.Generator, pixels: int = 1) -> np.ndarray:
    """Each image moved by its own random whole-pixel offset in [-pixels, pixels] down and across, zeros
    coming in at the edges (a digit moved a pixel is the same digit)."""
    n, _, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pixels, pixels), (pixels, pixels)))
    dy, dx = rng.integers(0, 2 * pixels + 1, size=(2, n))
    rows = (dy[:, None] + np.arange(h))[:, None, :, None]
    cols = (dx[:, None] + np.arange(w))[:, None, None, :]
    return padded[np.arange(n)[:, None, None, None], 0, rows, cols]


def framed(x: np.ndarray, border: int) -> np.ndarray:
    """The images with ``border`` pixels of zeros around them (MNIST's digits sit in such a frame)."""
    return np.pad(x, ((0, 0), (0, 0), (border, border), (border, border))) if border else x


def simple_conv_net(rng: np.random.Generator, conv_std: float | None = RECIPE["conv_std"], side: int = 8
                    ) -> rg.nn.Sequential:
    """The book's network: the filters drawn from N(0, conv_std²) as the book's SimpleConvNet draws its
    weights (None: He), the Affine layers with He initialisation (N(0, 0.01²) there trains slower on these
    small images)."""
    model = rg.nn.Sequential(
        rg.nn.Conv2d(1, 30, 5, pad=2, rng=rng), rg.nn.ReLU(), rg.nn.MaxPool2d(2), rg.nn.Flatten(),
        rg.nn.Linear(30 * (side // 2) ** 2, 100, rng=rng), rg.nn.ReLU(), rg.nn.Linear(100, 10, rng=rng))
    if conv_std is not None:
        W = model.params["0.W"]
        W[...] = rng.standard_normal(W.shape) * conv_std
    return model


def train(X: np.ndarray, t: np.ndarray, seed: int = 0, *, watch: tuple | None = None, progress: bool = True,
          **recipe: float) -> dict:
    """Train a fresh SimpleConvNet on ``(X, t)`` with ``RECIPE`` (entries overridden by ``recipe``); return
    the model, a ``predict(X)`` function, the loss per step and the first-layer filters before and after.
    ``watch=(X_val, t_val)``: also the accuracy on them after every epoch (``"curve"``). The learning rate
    is divided by 10 for the epochs after ``decay_at`` of the run (set on the optimizer: the fused step reads
    ``opt.lr`` at every call)."""
    r = {**RECIPE, **recipe}
    epochs, batch_size = int(r["epochs"]), int(r["batch_size"])
    rng = np.random.default_rng(seed)
    border = int(r["border"])
    X, side = framed(X, border), 8 + 2 * border
    model = simple_conv_net(rng, r["conv_std"], side)
    g = rg.Graph("simple_conv_net")
    x, labels = g.input("x", shape=(None, 1, side, side)), g.input("t", shape=(None,), dtype="int64")
    scores = model(x)
    opt = rg.optim.Adam(lr=r["lr"], weight_decay=r["weight_decay"])
    step = opt.compile(rg.softmax_cross_entropy(scores, labels), model)  # loss, gradients, Adam's update: one program
    argmax = rg.compile(rg.argmax(scores, axis=1))

    def predict(images: np.ndarray) -> np.ndarray:
        return argmax(x=framed(images, border), **model.params)

    before, losses, curve = model.params["0.W"].copy(), [], []
    batches = -(-len(X) // batch_size)
    with tqdm(total=epochs * batches, disable=not progress, unit="step") as bar:
        for epoch in range(epochs):
            opt.lr = r["lr"] if epoch < r["decay_at"] * epochs else r["lr"] / 10
            order = rng.permutation(len(X))
            for i in range(batches):
                idx = order[i * batch_size:(i + 1) * batch_size]
                xb = shifted(X[idx], rng, int(r["shift"])) if r["shift"] else X[idx]
                losses.append(float(step(x=xb, t=t[idx])))
                bar.update()
            if watch is not None:
                curve.append(float(np.mean(predict(watch[0]) == watch[1])))
            bar.set_description(f"epoch {epoch + 1}/{epochs}")
            bar.set_postfix(loss=f"{np.mean(losses[-batches:]):.4f}", **({"val": f"{curve[-1]:.1%}"} if curve else {}))
    return {"model": model, "predict": predict, "losses": np.array(losses), "curve": np.array(curve),
            "before": before, "after": model.params["0.W"].copy()}


def run(seed: int, *, validate: bool = False, progress: bool = True, **recipe: float) -> dict:
    """One seed's run. ``validate``: train on 64% of the data, return the validation accuracy per epoch
    (``"curve"``); else train on train + validation (80%) and measure the held-out 20% once (``"accuracy"``)."""
    X_train, X_test, t_train, t_test = load_data(seed)
    if validate:
        X_fit, X_val, t_fit, t_val = split(X_train, t_train, seed)
        result = train(X_fit, t_fit, seed, watch=(X_val, t_val), progress=progress, **recipe)
        return {**result, "accuracy": float(result["curve"][-1])}
    result = train(X_train, t_train, seed, progress=progress, **recipe)
    wrong = int(np.sum(result["predict"](X_test) != t_test))
    result.update(accuracy=1 - wrong / len(t_test), wrong=wrong, X_test=X_test, t_test=t_test)
    return result


def draw_filters(before: np.ndarray, after: np.ndarray, bias: np.ndarray, digit: np.ndarray, label: int,
                 path: Path) -> Path:
    """Figure 7-24: the 30 first-layer filters (5x5) before and after training, on ONE colour scale symmetric
    about 0 (red positive, blue negative) shared by both blocks, so they can be compared; sorted by how much
    training changed them (largest first, the same order in every block). Below, one test ``digit`` (as the
    network sees it, (1, 1, H, W)) and what it looks like through each trained filter: the ReLU of the
    convolution, the layer's actual output (the strokes and edges each filter picks out)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = np.argsort(-np.abs(after - before).sum(axis=(1, 2, 3)))
    scale = float(max(np.abs(before).max(), np.abs(after).max()))
    maps = np.maximum(rg.conv2d(digit, after, bias, pad=after.shape[-1] // 2)[0], 0)
    fig = plt.figure(figsize=(11, 13), layout="constrained")
    parts = fig.subfigures(3, 1)
    titles = ["before training (the initial random filters)", "after training (the same colour scale)",
              f"a test digit (a {label}, left) through each trained filter: the ReLU of the convolution"]
    for part, title, images in zip(parts, titles, [before[:, 0], after[:, 0], maps]):
        part.suptitle(title, fontsize=12)
        axes = part.subplots(3, 11)
        for ax in axes.flat:
            ax.set_axis_off()
        for k, i in enumerate(order):
            ax = axes[k // 10, 1 + k % 10]
            if images is maps:
                ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=float(maps.max()) or 1.0, interpolation="nearest")
            else:
                shown = ax.imshow(images[i], cmap="RdBu_r", vmin=-scale, vmax=scale, interpolation="nearest")
            ax.set_title(f"#{i}", fontsize=8, pad=2)
        if images is maps:
            axes[1, 0].imshow(digit[0, 0], cmap="gray_r", interpolation="nearest")
        else:
            part.colorbar(shown, ax=axes[:, 0], location="left", shrink=0.8, label="weight")
    fig.suptitle("SimpleConvNet's first-layer filters (figure 7-24), sorted by how much training moved them "
                 "(#: filter number)", fontsize=13)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=RECIPE["epochs"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds of the splits and the init (default 0)")
    parser.add_argument("--validate", action="store_true", help="train on 64%%, print the validation accuracy per epoch")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    start, cpu = time.perf_counter(), time.process_time()
    accuracies, curves = {}, []
    for seed in args.seeds:
        # One BLAS thread: the products of 50-image batches are too small to share, and a second thread
        # only spins (on a busy 2-core machine it tripled the run time).
        with threadpool_limits(1):
            result = run(seed, validate=args.validate, progress=not args.no_progress, epochs=args.epochs)
        accuracies[seed] = result["accuracy"]
        if args.validate:
            curves.append(result["curve"])
            print(f"seed {seed}: validation accuracy per epoch " + " ".join(f"{a:.3f}" for a in result["curve"]))
        else:
            wrong = f"{result['wrong']} of {len(result['t_test'])} wrong"
            print(f"seed {seed}: test accuracy {result['accuracy']:.2%} ({wrong})")
        if seed == args.seeds[0] and not args.validate:
            args.out.mkdir(parents=True, exist_ok=True)
            k = int(np.flatnonzero(result["t_test"] == SHOWN)[0])  # the first 6 of the test split: any digit would do
            digit = framed(result["X_test"][k:k + 1], int(RECIPE["border"]))
            path = draw_filters(result["before"], result["after"], result["model"].params["0.b"], digit, SHOWN,
                                args.out / "cnn-filters.png")
            print(f"wrote {path}")
    what = "validation" if args.validate else "test"
    if len(curves) > 1:
        print("mean validation accuracy per epoch " + " ".join(f"{a:.4f}" for a in np.mean(curves, axis=0)))
    if not args.validate:
        print(MEASURED)
    if len(accuracies) > 1:
        values = np.array(list(accuracies.values()))
        print(f"{what} accuracy over seeds {list(accuracies)}: mean {values.mean():.2%}, min {values.min():.2%}, "
              f"max {values.max():.2%}")
    print(f"wall time: {time.perf_counter() - start:.1f} s, CPU time: {time.process_time() - cpu:.1f} s")
    return {**result, "accuracies": accuracies}


if __name__ == "__main__":
    main()
