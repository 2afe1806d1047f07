"""Define-by-run autodiff on the same ops: ``from revgraph import dynamic as dy``.

>>> x = dy.Variable(np.array(2.0)); y = dy.Variable(np.array(3.0))
>>> z = rg.add(rg.square(x), rg.square(y))      # computed at once: Variable(13.0)
>>> z.backward(); x.grad, y.grad
(Variable(4.0), Variable(6.0))

Every op is the registry's op (same shape rules, same VJP rules) computed
with the NumPy backend's kernels; see docs/static-vs-dynamic.md.
"""

from .mode import enable_grad, is_recording, no_grad
from .variable import Node, Variable, as_variable
from .record import Recorded, record

__all__ = ["Variable", "Node", "as_variable", "no_grad", "enable_grad", "is_recording", "record", "Recorded"]
