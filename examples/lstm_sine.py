"""DeZero's step 60: an LSTM learns to predict a noisy sine wave, trained statically and dynamically.

LSTM(1, 100) -> Linear(100, 1), truncated BPTT over windows of 30 time steps, Adam. Static: the 30 steps are
unrolled once into a graph; one compiled program returns the loss, the last hidden and cell states (fed to
the next window: that is the truncation) and the gradients. Dynamic: the same model object, stepping through
time with dy.Variables and cutting the graph with ``unchain_backward`` after each window, as DeZero does.
``rg.compare`` then checks the two engines agree on one window. Figures are written next to this script:

    pip install -e ".[examples]"
    python examples/lstm_sine.py                   # lstm-sine.png: losses and the predicted wave
    python examples/lstm_sine.py --epochs 3
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

import revgraph as rg
from revgraph import dynamic as dy

BPTT, HIDDEN = 30, 100


def sine(n: int = 1000, noise: float = 0.05, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """DeZero's SinCurve: x_t = sin(t) + noise, the target is x_{t+1}; shapes (n, 1, 1)."""
    t = np.linspace(0, 4 * np.pi, n + 1)
    y = np.sin(t) + np.random.default_rng(seed).uniform(-noise, noise, size=t.shape)
    return y[:-1].reshape(-1, 1, 1), y[1:].reshape(-1, 1, 1)


def make_model(seed: int = 0) -> rg.nn.Module:
    class SimpleRNN(rg.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            rng = np.random.default_rng(seed)
            self.lstm = rg.nn.LSTM(1, HIDDEN, rng=rng)
            self.fc = rg.nn.Linear(HIDDEN, 1, init="xavier", rng=rng)

        def forward(self, x, h=None, c=None):
            h, c = self.lstm(x, h, c)
            return self.fc(h), h, c

    return SimpleRNN()


def window_loss(model, xs, ts, h=None, c=None):
    """Mean squared error over one window, and the last states."""
    loss = 0.0
    for x, t in zip(xs, ts):
        y, h, c = model(x, h, c)
        loss = loss + rg.mse(y, t)
    return loss / len(xs), h, c


def static_program(model):
    """One compiled program for a window: loss, last states and the parameters' gradients."""
    g = rg.Graph("lstm_window")
    xs = [g.input(f"x{i}", shape=(1, 1)) for i in range(BPTT)]
    ts = [g.input(f"t{i}", shape=(1, 1)) for i in range(BPTT)]
    h0, c0 = g.input("h", shape=(1, HIDDEN)), g.input("c", shape=(1, HIDDEN))
    loss, h, c = window_loss(model, xs, ts, h0, c0)
    params = model.inputs(g)
    return rg.compile([loss, h, c, *rg.grad(loss, list(params.values()))]), list(params)


def train_static(model, X, T, epochs, progress=True):
    run, names = static_program(model)
    opt, losses = rg.optim.Adam(), []
    for _ in tqdm(range(epochs), desc="static", disable=not progress):
        h = c = np.zeros((1, HIDDEN))
        for start in range(0, len(X) - BPTT + 1, BPTT):
            feeds = {f"x{i}": X[start + i] for i in range(BPTT)} | {f"t{i}": T[start + i] for i in range(BPTT)}
            loss, h, c, *grads = run(h=h, c=c, **feeds, **model.params)
            opt.update(model.params, dict(zip(names, grads)))
            losses.append(float(loss))
    return np.array(losses)


def train_dynamic(model, X, T, epochs, progress=True):
    opt, losses = rg.optim.Adam(), []
    for _ in tqdm(range(epochs), desc="dynamic", disable=not progress):
        h = c = dy.Variable(np.zeros((1, HIDDEN)))
        for start in range(0, len(X) - BPTT + 1, BPTT):
            model.cleargrads()
            loss, h, c = window_loss(model, [dy.Variable(x) for x in X[start:start + BPTT]], T[start:start + BPTT], h, c)
            loss.backward()
            h.unchain_backward()
            c.unchain_backward()
            opt.update(model.params, model.grads())
            losses.append(float(loss.data))
    return np.array(losses)


def predict(model, X):
    """Run the trained model over the whole wave on arrays (no gradients needed)."""
    h = c = np.zeros((1, HIDDEN))
    out = []
    for x in X:
        y, h, c = model(x, h, c)
        out.append(float(np.asarray(y).item()))
    return np.array(out)


def compare_one_window(model, X, T):
    """rg.compare on one window: the same function traced statically and run dynamically."""
    def window(**feeds):
        xs = [feeds[f"x{i}"] for i in range(BPTT)]
        ts = [feeds[f"t{i}"] for i in range(BPTT)]
        with model.bound({k: feeds[k] for k in model.params}):   # the parameters compare feeds and differentiates
            return window_loss(model, xs, ts)[0]

    feeds = {f"x{i}": X[i] for i in range(BPTT)} | {f"t{i}": T[i] for i in range(BPTT)}
    return rg.compare(window, wrt=list(model.params), repeat=5, **feeds, **model.params)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    X, T = sine(args.points)
    results = {}
    for engine, train in (("static", train_static), ("dynamic", train_dynamic)):
        model = make_model()
        start = time.perf_counter()
        losses = train(model, X, T, args.epochs, not args.no_progress)
        results[engine] = {"losses": losses, "seconds": time.perf_counter() - start, "prediction": predict(model, X)}
        print(f"{engine:8s} final loss {losses[-len(losses) // args.epochs:].mean():.5f}  "
              f"({results[engine]['seconds']:.1f} s)")
    report = compare_one_window(make_model(), X, T)
    print(report)
    results["agree"] = report.agree
    args.out.mkdir(parents=True, exist_ok=True)
    results["figure"] = _plot(results, X, T, args.out / "lstm-sine.png")
    print(f"wrote {results['figure']}")
    return results


def _plot(results, X, T, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))
    for engine in ("static", "dynamic"):
        a.plot(results[engine]["losses"], label=engine, lw=0.8, alpha=0.8)
    a.set(yscale="log", xlabel="window (BPTT 30)", ylabel="loss", title="training loss")
    a.legend()
    b.plot(T.ravel(), label="true (noisy) wave", color="#999999", lw=1)
    b.plot(results["static"]["prediction"], label="predicted (static)", lw=1)
    b.plot(results["dynamic"]["prediction"], "--", label="predicted (dynamic)", lw=1)
    b.set(xlabel="t", title="next value of the sine wave")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


if __name__ == "__main__":
    main()
