"""theon.function: compile symbolic graphs into callables (Theano's signature)."""
from collections.abc import Mapping

from theon import _core
from theon.compile.mode import get_mode


class In:
    """A function input with options (Theano's ``theano.In``)."""

    def __init__(self, variable, name=None, value=None, update=None, mutable=False, strict=False,
                 allow_downcast=None, autoname=True, implicit=False, borrow=False, shared=False):
        if not isinstance(variable, _core.Variable):
            raise TypeError(f"In: expected a theon Variable, got {type(variable).__name__}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"In: name must be a string, got {type(name).__name__}")
        self.variable = variable
        self.name = name
        self.value = value
        self.update = update
        self.mutable = mutable
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.borrow = borrow


class Out:
    """A function output with options (``borrow`` is accepted; outputs are fresh arrays)."""

    def __init__(self, variable, borrow=False):
        self.variable = variable
        self.borrow = borrow


def _pairs(x, what):
    if x is None:
        return []
    items = x.items() if isinstance(x, Mapping) else x
    pairs = []
    for item in items:
        try:
            k, v = item
        except (TypeError, ValueError):
            raise TypeError(f"{what} must be a dict or a list of (variable, value) pairs") from None
        if not isinstance(k, _core.Variable):
            raise TypeError(f"{what}: keys must be theon Variables, got {type(k).__name__}")
        pairs.append((k, v))
    return pairs


class ProfileStats:
    """Per-op times, calls and kernels, whole-call time and peak memory of a profiling function."""

    def __init__(self, core):
        self._core = core

    @property
    def op_stats(self):
        """``[(op, calls, seconds, kernel)]``, slowest first."""
        kernels = self._core.profile_kernels()
        return [(op, n, s, kernels.get(op, "")) for op, n, s in self._core.profile()]

    @property
    def fct_callcount(self):
        return self._core.call_profile()[0]

    @property
    def fct_call_time(self):
        return self._core.call_profile()[1]

    @property
    def peak_memory_bytes(self):
        """The most bytes of buffers live at once during a call, above what the call started with."""
        return self._core.call_profile()[2]

    def summary(self, file=None):
        """Prints the profile like Theano's ``ProfileStats.summary()``."""
        import sys
        print(self._core.profile_summary(), file=file or sys.stdout)


class Function:
    """A compiled theon function. Call it with arrays (positionally or by name)."""

    def __init__(self, core, single, inputs, outputs, mode=None):
        self._core = core
        self._single = single
        self.inputs = inputs
        self.outputs = outputs
        self.name = core.name
        self._mode = mode

    @property
    def mode(self):
        """The Mode the function was compiled with (its ``name`` is the resolved mode:
        FAST_RUN, FAST_COMPILE, None, DebugMode or NanGuardMode)."""
        if self._mode is None or self._mode.name != self._core.mode:
            return get_mode(self._core.mode)
        return self._mode

    def rewrites_applied(self):
        """Which rewrites changed the graph and how many times: ``{name: count}``."""
        return dict(self._core.rewrites_applied())

    def rewrite_seconds(self):
        """How long the optimizer took, in seconds."""
        return self._core.rewrite_seconds()

    def rewrite_warnings(self):
        """The optimizer's warnings (e.g. a replacement of the wrong type it refused); empty when all went well."""
        return list(self._core.rewrite_warnings())

    def debugprint(self, print_type=True, depth=-1, ids=True):
        """The compiled (optimized) graph as text."""
        return self._core.debugprint(print_type, depth, ids)

    @property
    def device(self):
        """The device it runs on: 'cpu' or 'cuda:N'."""
        return self._core.device

    def transfer_stats(self):
        """Host <-> device copies of a CUDA function, all calls so far:
        ``{'uploads', 'downloads', 'upload_bytes', 'download_bytes'}`` (zeros on the CPU)."""
        u, d, ub, db = self._core.transfer_stats()
        return {"uploads": u, "downloads": d, "upload_bytes": ub, "download_bytes": db}

    def cpu_fallback_ops(self):
        """The ops of a CUDA function that run on the CPU (``config.allow_cpu_fallback``)."""
        return list(self._core.cpu_fallback_ops())

    def __call__(self, *args, **kwargs):
        out = self._core(*args, **kwargs)
        return out[0] if self._single else out

    def profile_summary(self):
        return self._core.profile_summary()

    @property
    def profile(self):
        """Theano's ``f.profile``: a ProfileStats of a function compiled with ``profile=True``
        (or ``theon.config.profile``), else None."""
        return ProfileStats(self._core) if self._core.profiling else None

    @property
    def maker(self):
        return self

    @property
    def fgraph(self):
        return self

    def toposort(self):
        return self._core.nodes()

    def free(self):
        pass

    def __repr__(self):
        return f"<theon.compile.function.Function {self.name or ''}>"


def function(inputs, outputs=None, mode=None, updates=None, givens=None, no_default_updates=False,
             accept_inplace=False, name=None, rebuild_strict=True, allow_input_downcast=None, profile=None,
             on_unused_input=None, device=None):
    """Compiles ``outputs`` as a function of ``inputs`` (see Theano's theano.function).

    ``outputs`` may be one variable (the call returns one array) or a list
    (the call returns a list). ``updates`` maps shared variables to their new
    values, computed from the values before the call and applied after all
    outputs are computed; if the call fails, no shared variable changes.
    ``mode`` is a Mode or a mode name (FAST_RUN, FAST_COMPILE, None,
    DebugMode, NanGuardMode; default config.mode). ``no_default_updates=True``
    ignores the default updates of shared variables (e.g. random streams).
    ``device`` ('cpu', 'cuda', 'cuda:N'; default config.device) is where it
    runs; a device that cannot be used here raises, naming why. On a CUDA
    device every op runs through its CUDA kernel, values stay on the device
    between ops and shared variables live there (``get_value`` still returns
    NumPy); an op without a CUDA kernel raises at compile time, or runs on
    the CPU with a warning when ``config.allow_cpu_fallback`` is set.
    """
    if not isinstance(inputs, (list, tuple)):
        raise TypeError("function: inputs must be a list or tuple of Variables or In instances")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"function: name must be a string, got {type(name).__name__}")
    mode = get_mode(mode)
    if not isinstance(no_default_updates, bool):
        raise TypeError("function: no_default_updates must be True or False (a list of variables is not supported)")
    single = outputs is not None and not isinstance(outputs, (list, tuple))
    outs = [] if outputs is None else ([outputs] if single else list(outputs))
    out_vars = []
    for i, o in enumerate(outs):
        if isinstance(o, Out):
            o = o.variable
        if not isinstance(o, _core.Variable):
            o = _core.as_tensor_variable(o)
        out_vars.append(o)
    in_specs = []
    for i, x in enumerate(inputs):
        if isinstance(x, In):
            if x.update is not None:
                raise TypeError(f"function: input {i}: In(update=...) is not supported; keep state in a shared "
                                "variable and pass updates=[(shared_var, new_value)]")
            in_specs.append((x.variable, x.name, x.value, x.borrow, x.mutable, x.allow_downcast))
        elif isinstance(x, _core.Variable):
            in_specs.append((x, None, None, False, False, None))
        else:
            raise TypeError(f"function: input {i} must be a theon Variable or In, got {type(x).__name__}")
    ups = []
    for k, v in _pairs(updates, "updates"):
        if not isinstance(v, _core.Variable):
            v = _core.as_tensor_variable(v)
        if v.dtype != k.dtype and v.ndim == k.ndim and allow_input_downcast is not False and v.owner_op is None:
            v = _core.cast(v, k.dtype)
        if v.dtype != k.dtype or v.ndim != k.ndim:
            raise TypeError(f"function: an update must have the same type as the shared variable {k.name or k!s}: "
                            f"expected {k.type!r}, got {v.type!r} for update {v!s}"
                            + (" (cast the update expression, e.g. T.cast(expr, %r))" % k.dtype
                               if v.ndim == k.ndim else ""))
        ups.append((k, v))
    gv = _pairs(givens, "givens")
    core = _core.function(in_specs, out_vars, ups, gv, mode=mode.name, name=name or "",
                          allow_input_downcast=bool(allow_input_downcast), on_unused_input=on_unused_input or "",
                          profile=profile, including=mode.included, excluding=mode.excluded,
                          requiring=mode.required, no_default_updates=bool(no_default_updates), device=device or "")
    f = Function(core, single, inputs, outs, mode)
    return f
