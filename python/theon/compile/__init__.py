"""theon.compile: functions, shared variables and modes (Theano's names)."""
from theon.compile.function import function, In, Out  # noqa: F401
from theon.compile.sharedvalue import shared, SharedVariable  # noqa: F401
from theon.compile import mode  # noqa: F401
from theon.compile.mode import Mode, get_mode, FAST_RUN, FAST_COMPILE, DebugMode, NanGuardMode  # noqa: F401


def rewrites():
    """Every rewrite the optimizer has: a list of dicts with name, phase, tags and doc.

    Names and tags are what ``Mode.including/excluding/requiring`` and
    ``config.optimizer_excluding`` accept.
    """
    from theon import _core

    return [dict(name=n, phase=p, tags=list(t), doc=d) for n, p, t, d in _core.rewrites()]
