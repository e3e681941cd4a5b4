"""Compilation modes (Theano's theano.compile.mode).

A Mode names how theon.function compiles a graph and which rewrites run:

    FAST_RUN      every rewrite tagged fast_run (config.optimizer, default "fast_run")
    FAST_COMPILE  merge and constant folding only
    None          no rewrites: the graph runs as written
    DebugMode     FAST_RUN, and every call re-checks each replacement the optimizer
                  made on the call's inputs; a mismatch raises naming the rewrite
    NanGuardMode  FAST_RUN, and every call stops at the first op whose output holds
                  NaN or Inf, naming the op

``mode.including(...)``, ``excluding(...)`` and ``requiring(...)`` return a new
Mode with rewrite names or tags added to the lists the optimizer's query uses;
config.optimizer_including/excluding/requiring (colon-separated) apply to
every mode. The mode object only records the choice: the C++ compiler
resolves it (include/theon/compile/mode.h).
"""
import warnings

# The names the C++ compiler accepts ("Mode" is FAST_RUN, "DEBUG_MODE" is DebugMode).
_KNOWN = ("FAST_RUN", "FAST_COMPILE", "None", "DebugMode", "DEBUG_MODE", "Mode", "NanGuardMode")

# Theano's optimizer names (Mode(optimizer=...), config.optimizer) -> (mode name, required tags).
_OPTIMIZERS = {
    "fast_run": ("FAST_RUN", ()), "o4": ("FAST_RUN", ()),
    "fast_compile": ("FAST_COMPILE", ()), "o1": ("FAST_COMPILE", ()),
    "merge": ("FAST_COMPILE", ("merge",)),
    "None": ("None", ()), "none": ("None", ()),
}


def _tags(method, tags):
    out = []
    for t in tags:
        if isinstance(t, (list, tuple)):
            out.extend(_tags(method, t))
        elif isinstance(t, str) and t:
            out.append(t)
        else:
            raise TypeError(f"Mode.{method}: rewrite names and tags must be non-empty strings, got {t!r}")
    return out


class Mode:
    """How a function is compiled: a mode name plus included/excluded/required rewrites.

    ``Mode(name="FAST_COMPILE")`` picks a mode by name; Theano's
    ``Mode(linker, optimizer)`` is accepted too: ``optimizer=None`` runs no
    rewrites, ``"fast_run"``, ``"fast_compile"`` and ``"merge"`` select those
    rewrite sets, and ``"default"`` follows config.optimizer. The linker is
    recorded only: theon has one runtime.
    """

    def __init__(self, linker=None, optimizer="default", name=None, including=(), excluding=(), requiring=()):
        require = []
        if name is None:
            if optimizer == "default":
                name = "FAST_RUN"
            elif optimizer is None:
                name = "None"
            elif isinstance(optimizer, str) and optimizer in _OPTIMIZERS:
                name, req = _OPTIMIZERS[optimizer]
                require.extend(req)
                if optimizer in ("fast_run", "o4"):
                    # Explicitly fast_run, whatever config.optimizer says.
                    including = tuple(including) + ("fast_run",)
            else:
                raise ValueError(f"Mode: unknown optimizer {optimizer!r} (expected 'default', None, "
                                 + ", ".join(repr(k) for k in _OPTIMIZERS) + ")")
        elif not isinstance(name, str) or name not in _KNOWN:
            raise ValueError(f"Mode: unknown mode name {name!r} (expected one of {', '.join(_KNOWN)})")
        self.name = name
        self.linker = linker
        self.optimizer = optimizer
        self.provided_linker = linker
        self.provided_optimizer = optimizer
        self._including = tuple(_tags("including", including))
        self._excluding = tuple(_tags("excluding", excluding))
        self._requiring = tuple(require) + tuple(_tags("requiring", requiring))

    # What the optimizer query gets, in order of the calls that added them.
    @property
    def included(self):
        return list(self._including)

    @property
    def excluded(self):
        return list(self._excluding)

    @property
    def required(self):
        return list(self._requiring)

    def _derive(self, **changes):
        m = object.__new__(type(self))
        m.__dict__.update(self.__dict__)
        m.__dict__.update(changes)
        return m

    def including(self, *tags):
        """A new Mode that also runs the rewrites with these names or tags."""
        return self._derive(_including=self._including + tuple(_tags("including", tags)))

    def excluding(self, *tags):
        """A new Mode that never runs the rewrites with these names or tags."""
        return self._derive(_excluding=self._excluding + tuple(_tags("excluding", tags)))

    def requiring(self, *tags):
        """A new Mode that runs only rewrites carrying every one of these names or tags."""
        return self._derive(_requiring=self._requiring + tuple(_tags("requiring", tags)))

    def __eq__(self, other):
        return (isinstance(other, Mode) and type(self) is type(other) and self.name == other.name
                and self._including == other._including and self._excluding == other._excluding
                and self._requiring == other._requiring)

    def __hash__(self):
        return hash((type(self).__name__, self.name, self._including, self._excluding, self._requiring))

    def __repr__(self):
        parts = [repr(self.name)]
        for what, v in (("including", self._including), ("excluding", self._excluding),
                        ("requiring", self._requiring)):
            if v:
                parts.append(f"{what}={list(v)!r}")
        return f"{type(self).__name__}({', '.join(parts)})"


class DebugMode(Mode):
    """FAST_RUN that re-checks every rewrite on each call (Theano's DebugMode).

    A call evaluates, on its own inputs, each variable the optimizer replaced
    and its replacement, unoptimized, and raises (RuntimeError, Theano's
    BadOptimization) naming the rewrite when they differ.
    """

    def __init__(self, optimizer="default", linker=None, **kwargs):
        if optimizer not in ("default", "fast_run", "o4"):
            raise ValueError(f"DebugMode: theon's DebugMode checks the fast_run rewrites; optimizer={optimizer!r} "
                             "is not supported (use Mode(optimizer=...) instead)")
        super().__init__(linker=linker, name="DebugMode")


class NanGuardMode(Mode):
    """FAST_RUN that stops at the first op whose output holds NaN or Inf (Theano's NanGuardMode).

    The call raises RuntimeError naming the op. theon checks NaN and Inf
    together; ``big_is_error`` (values above 1e10) is not checked.
    """

    def __init__(self, nan_is_error=None, inf_is_error=None, big_is_error=None, optimizer="default", linker=None):
        if nan_is_error is False or inf_is_error is False:
            raise ValueError("NanGuardMode: theon checks NaN and Inf together; nan_is_error=False or "
                             "inf_is_error=False is not supported")
        if big_is_error:
            warnings.warn("NanGuardMode: big_is_error is not checked by theon (NaN and Inf are)", stacklevel=2)
        if optimizer not in ("default", "fast_run", "o4"):
            raise ValueError(f"NanGuardMode: optimizer={optimizer!r} is not supported (the fast_run rewrites run)")
        super().__init__(linker=linker, name="NanGuardMode")
        self.nan_is_error = True
        self.inf_is_error = True
        self.big_is_error = False


FAST_RUN = Mode(name="FAST_RUN")
FAST_COMPILE = Mode(name="FAST_COMPILE")
predefined_modes = {
    "FAST_RUN": FAST_RUN,
    "FAST_COMPILE": FAST_COMPILE,
    "None": Mode(name="None"),
    "DebugMode": Mode(name="DebugMode"),
    "DEBUG_MODE": Mode(name="DebugMode"),
    "Mode": FAST_RUN,
    "NanGuardMode": Mode(name="NanGuardMode"),
}


def get_mode(mode):
    """Returns the Mode for a name or a Mode; None means config.mode.

    Raises ValueError for a name theon does not know.
    """
    if mode is None:
        from theon.configparser import config

        mode = config.mode
    if isinstance(mode, Mode):
        return mode
    if isinstance(mode, str) and mode in predefined_modes:
        return predefined_modes[mode]
    raise ValueError(f"get_mode: unknown mode {mode!r} (expected a Mode or one of {', '.join(_KNOWN)})")


def get_default_mode():
    """The Mode of config.mode."""
    return get_mode(None)
