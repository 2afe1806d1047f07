"""Optimizers with the book's interface: ``opt.update(params, grads)`` on dicts of arrays, in place.

The formulas are those of *Deep Learning from Scratch* chapter 6 (common/optimizer.py there):
AdaGrad, RMSprop and Adam add 1e-7 to the square root, and Adam folds its bias correction into the
learning rate, ``lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)``, as the book writes it.

>>> params = {"W": np.ones(3)}; opt = rg.optim.SGD(lr=0.1)
>>> opt.update(params, {"W": np.full(3, 2.0)}); params["W"]
array([0.8, 0.8, 0.8])
"""

from .optimizers import SGD, AdaGrad, Adam, Momentum, Nesterov, Optimizer, RMSprop

__all__ = ["Optimizer", "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "Adam"]
