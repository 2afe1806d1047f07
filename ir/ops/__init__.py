"""Every op revgraph knows: one registry entry per op (shape/dtype rule + VJP
rule) and the public function that applies it. Importing this package fills
the registry. Every function listed in PUBLIC is exported with a ``name=``
keyword (``ir/naming.py``): a new op family only has to join PUBLIC."""

from . import internal, elementwise, reductions, shape_ops, nn, math  # noqa: F401  (order: rules use earlier modules)
from . import indexing, combine, conv, complex_ops  # noqa: F401
from .elementwise import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .shape_ops import *  # noqa: F401,F403
from .nn import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403  (its getitem, basic or advanced, replaces shape_ops')
from .combine import *  # noqa: F401,F403
from .math import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .complex_ops import *  # noqa: F401,F403
from .internal import unbroadcast  # noqa: F401
from . import linalg  # noqa: F401,E402  (rg.linalg: a namespace of its own, not in PUBLIC)
from . import fft  # noqa: F401,E402  (rg.fft: the same)

PUBLIC = elementwise.__all__ + reductions.__all__ + shape_ops.__all__ + nn.__all__
PUBLIC += [n for n in indexing.__all__ + combine.__all__ if n not in PUBLIC]
PUBLIC += math.__all__
PUBLIC += conv.__all__
PUBLIC += complex_ops.__all__

from ..naming import with_name as _with_name  # noqa: E402  (after every family has joined PUBLIC)

for _public in PUBLIC:
    globals()[_public] = _with_name(globals()[_public])
