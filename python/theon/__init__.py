"""theon — Theano rebuilt in C++.

Classic Theano programs run with only their imports changed::

    import theon as theano
    import theon.tensor as T

All computation happens in the C++ core (``theon._core``); this package only
gives it Theano's names.
"""
import os as _os

# A development build can point at its extension module instead of an installed one.
if _os.environ.get("THEON_BUILD_DIR"):
    __path__.insert(0, _os.environ["THEON_BUILD_DIR"])  # noqa: F821

from theon import _core  # noqa: E402
from theon.configparser import config  # noqa: E402,F401
from theon.compile.function import function, In, Out  # noqa: E402,F401
from theon.compile.sharedvalue import shared  # noqa: E402,F401
from theon import tensor  # noqa: E402,F401
from theon import printing  # noqa: E402,F401
from theon import gradient  # noqa: E402,F401
from theon import datasets  # noqa: E402,F401
from theon import sandbox  # noqa: E402,F401
from theon.gradient import grad  # noqa: E402,F401
from theon import scan_module  # noqa: E402,F401
from theon.scan_module import scan, map, reduce, foldl, foldr  # noqa: E402,F401
from theon import compile  # noqa: E402,F401
from theon._dlpack import from_dlpack, to_dlpack  # noqa: E402,F401

Variable = _core.Variable
__version__ = "0.1.0"
