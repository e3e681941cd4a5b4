"""theon.config: Theano's configuration object, backed by the C++ Config."""
import contextlib

from theon import _core

_BOOL = {"profile", "allow_cpu_fallback"}
_INT = {"num_threads"}


class _Config:
    """Attribute access to the C++ configuration (``config.floatX = 'float64'``).

    Initial values come from the THEON_FLAGS environment variable
    (``THEON_FLAGS=floatX=float64,profile=True``).
    """

    _names = ("floatX", "mode", "optimizer", "optimizer_including", "optimizer_excluding", "optimizer_requiring",
              "device", "allow_cpu_fallback", "float32_matmul_precision", "profile", "on_unused_input",
              "num_threads")

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            value = _core.config_get(name)
        except ValueError:
            raise AttributeError(f"theon.config has no option {name!r}") from None
        if name in _BOOL:
            return value == "True"
        if name in _INT:
            return int(value)
        return value

    def __setattr__(self, name, value):
        if isinstance(value, bool):
            value = "True" if value else "False"
        try:
            _core.config_set(name, str(value))
        except ValueError as e:
            msg = str(e)
            raise ValueError(msg if msg.startswith("config.") else f"config.{name} = {value!r}: {msg}") from None

    @contextlib.contextmanager
    def change_flags(self, **flags):
        """Temporarily changes options: ``with config.change_flags(floatX='float64'): ...``"""
        old = {k: getattr(self, k) for k in flags}
        try:
            for k, v in flags.items():
                setattr(self, k, v)
            yield
        finally:
            for k, v in old.items():
                setattr(self, k, v)

    def __repr__(self):
        return "\n".join(f"{n} = {getattr(self, n)}" for n in self._names)


config = _Config()

# Read THEON_FLAGS now, so a bad flag is reported at import rather than at first use.
try:
    _core.config_get("floatX")
except ValueError as _e:
    import os as _os

    raise ValueError(f"THEON_FLAGS={_os.environ.get('THEON_FLAGS', '')!r}: {_e}") from None
change_flags = config.change_flags
