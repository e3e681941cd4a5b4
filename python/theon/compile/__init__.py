"""theon.compile: functions, shared variables and modes (Theano's names)."""
from theon.compile.function import function, In, Out  # noqa: F401
from theon.compile.sharedvalue import shared, SharedVariable  # noqa: F401
from theon.compile import mode  # noqa: F401
from theon.compile.mode import Mode, get_mode, FAST_RUN, FAST_COMPILE  # noqa: F401
