"""Layers and models, ``rg.nn``: one model object for both engines.

>>> model = rg.nn.Sequential(rg.nn.Linear(64, 50), rg.nn.ReLU(), rg.nn.Linear(50, 10))
>>> g = rg.Graph("mlp"); x = g.input("x", shape=(None, 64)); t = g.input("t", shape=(None,), dtype="int64")
>>> loss = rg.softmax_cross_entropy(model(x), t)                       # static: builds the graph
>>> step = rg.compile(loss, wrt=list(model.inputs(g).values()))
>>> step.forward(x=xb, t=tb, **model.params); grads = step.backward()
>>> loss = rg.softmax_cross_entropy(model(dy.Variable(xb)), tb)       # dynamic: computes at once
>>> loss.backward(); model.grads()
"""

from .init import he, xavier
from .layers import LSTM, RNN, AvgPool2d, Embedding, BatchNorm, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sigmoid, Tanh
from .module import Module, Sequential

__all__ = ["Module", "Sequential", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm", "Dropout", "ReLU", "Sigmoid",
           "Tanh", "Flatten", "RNN", "LSTM", "Embedding", "he",
           "xavier"]
