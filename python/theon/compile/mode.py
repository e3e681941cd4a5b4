"""Compilation modes. theon has one compiler; a mode records the user's choice
(FAST_RUN, FAST_COMPILE, DebugMode) for the optimizer phases of later issues."""

_KNOWN = ("FAST_RUN", "FAST_COMPILE", "DebugMode", "DEBUG_MODE", "Mode", "NanGuardMode")


class Mode:
    def __init__(self, linker=None, optimizer=None, name="FAST_RUN"):
        self.linker = linker
        self.optimizer = optimizer
        self.name = name

    def including(self, *tags):
        return self

    def excluding(self, *tags):
        return self

    def requiring(self, *tags):
        return self

    def __repr__(self):
        return f"Mode({self.name})"


FAST_RUN = Mode(name="FAST_RUN")
FAST_COMPILE = Mode(name="FAST_COMPILE")


def get_mode(mode):
    """Returns the Mode for a name (or a Mode); None means config.mode."""
    from theon.configparser import config

    if mode is None:
        mode = config.mode
    if isinstance(mode, Mode):
        return mode
    if not isinstance(mode, str) or mode not in _KNOWN:
        raise ValueError(f"get_mode: unknown mode {mode!r} (expected one of {', '.join(_KNOWN)})")
    return Mode(name=mode)
