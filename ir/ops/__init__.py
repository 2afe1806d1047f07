"""Every op revgraph knows: one registry entry per op (shape/dtype rule + VJP
rule) and the public function that applies it. Importing this package fills
the registry."""

from . import internal, elementwise, reductions, shape_ops, nn  # noqa: F401  (order: rules use earlier modules)
from .elementwise import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .shape_ops import *  # noqa: F401,F403
from .nn import *  # noqa: F401,F403
from .internal import unbroadcast  # noqa: F401

PUBLIC = elementwise.__all__ + reductions.__all__ + shape_ops.__all__ + nn.__all__
