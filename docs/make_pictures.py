"""Regenerate the pictures docs/ and the README embed: ``python docs/make_pictures.py [--png DIR]``.

textbook.svg and joint.svg (the apple-and-orange example), textbook-adjoint.svg (the adjoint graph of
x·1 + 0 as the adjoint pass emitted it, next to what runs once the simplifier removed the identities), scopes.svg (a two-layer net in name scopes, joint view) and
summary.svg (a 300-layer chain in 300 scopes, drawn as a summary). ``--png DIR`` also writes PNG copies there,
for looking at them."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import revgraph as rg

DOCS = Path(__file__).resolve().parent


def scoped_net() -> rg.CompiledStep:
    g = rg.Graph("two-layer net")
    x, t = g.input("x", shape=(2, 3)), g.input("t", shape=(2, 2))
    W1, b1 = g.input("W1", shape=(3, 4)), g.input("b1", shape=(4,))
    W2, b2 = g.input("W2", shape=(4, 2)), g.input("b2", shape=(2,))
    with g.scope("layer1"):
        h = rg.relu(rg.add(x @ W1, b1, name="affine1"), name="h")
    with g.scope("layer2"):
        y = rg.add(h @ W2, b2, name="affine2")
    loss = rg.mse(y, t, name="loss")
    return rg.compile(loss, wrt=[W1, b1, W2, b2])


def identities() -> rg.CompiledStep:
    g = rg.Graph("x·1 + 0, then tanh")
    x = g.input("x", shape=(3,))
    y = rg.sum(rg.tanh(x * 1.0 + 0.0) * 2.0, name="y")
    step = rg.compile(y, wrt=[x])
    step.forward(x=np.array([0.5, -1.0, 2.0]))
    step.backward()
    return step


def chain() -> rg.Graph:
    g = rg.Graph("300-layer chain")
    h = g.input("x", shape=(3,))
    for i in range(300):
        with g.scope(f"layer{i}"):
            h = rg.tanh(h * 0.9 + 0.1)
    rg.sum(h, name="total")
    return g


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--png", default="", help="also write PNG copies into this folder")
    args = p.parse_args()
    g = rg.Graph("buy_apple_orange")
    apple, apple_num, orange, orange_num, tax = (g.input(n) for n in
                                                 ["apple", "apple_num", "orange", "orange_num", "tax"])
    apple_price = rg.mul(apple, apple_num, name="apple_price")
    orange_price = rg.mul(orange, orange_num, name="orange_price")
    price = ((apple_price + orange_price) * tax).rename("price")
    step = rg.compile(price, wrt=[apple, apple_num, orange, orange_num, tax])
    step.forward(apple=100, apple_num=2, orange=150, orange_num=3, tax=1.1)
    step.backward()
    net = scoped_net()
    rng = np.random.default_rng(0)
    net.forward(x=rng.normal(size=(2, 3)), t=rng.normal(size=(2, 2)), W1=rng.normal(size=(3, 4)),
                b1=np.zeros(4), W2=rng.normal(size=(4, 2)), b2=np.zeros(2))
    net.backward()
    jobs = [(step, "textbook", dict(which="forward", values=True)), (step, "joint", dict(which="joint")),
            (identities(), "textbook-adjoint", dict(which="adjoint", values=True, simplified="both")),
            (net, "scopes", dict(which="joint")), (chain(), "summary", dict(which="forward"))]
    for obj, name, kw in jobs:
        rg.render(obj, DOCS / f"{name}.svg", **kw)
        if args.png:
            rg.render(obj, Path(args.png) / f"{name}.png", **kw)
        print(f"wrote docs/{name}.svg")


if __name__ == "__main__":
    main()
