"""theon.nn.schedules — learning-rate schedules (Keras's names).

A schedule is called with a step count and returns a learning rate; the
training loop or a callback assigns it to ``optimizer.learning_rate`` between
calls. The step may count epochs (call once per epoch) or batches (call once
per batch): the formulas are the same, only ``decay_steps`` and the like must
be in the same unit. Steps start at 0. The formulas are computed in C++
(theon/nn/schedules.h).
"""
import operator

from theon import _core

_nn = _core.nn

__all__ = ["LearningRateSchedule", "StepDecay", "ExponentialDecay", "CosineDecay", "Warmup",
           "PiecewiseConstantDecay"]


class LearningRateSchedule:
    """Base: ``schedule(step) -> float``."""

    def __init__(self, fn, config):
        self._fn = fn
        self._config = config

    def __call__(self, step):
        return self._fn(operator.index(step))

    def get_config(self):
        return dict(self._config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args})"


class StepDecay(LearningRateSchedule):
    """``initial * drop ** (step // every_n)``."""

    def __init__(self, initial_learning_rate, drop, every_n):
        super().__init__(_nn.step_decay(float(initial_learning_rate), float(drop), int(every_n)),
                         dict(initial_learning_rate=initial_learning_rate, drop=drop, every_n=every_n))


class ExponentialDecay(LearningRateSchedule):
    """``initial * decay_rate ** (step / decay_steps)``, the exponent floored when ``staircase``."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False):
        super().__init__(_nn.exponential_decay(float(initial_learning_rate), int(decay_steps), float(decay_rate),
                                               bool(staircase)),
                         dict(initial_learning_rate=initial_learning_rate, decay_steps=decay_steps,
                              decay_rate=decay_rate, staircase=staircase))


class CosineDecay(LearningRateSchedule):
    """Cosine from ``initial`` to ``alpha * initial`` over ``decay_steps``, then constant."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0):
        super().__init__(_nn.cosine_decay(float(initial_learning_rate), int(decay_steps), float(alpha)),
                         dict(initial_learning_rate=initial_learning_rate, decay_steps=decay_steps, alpha=alpha))


class Warmup(LearningRateSchedule):
    """Linear warmup from ``start`` to ``schedule(0)`` over ``warmup_steps``, then
    ``schedule(step - warmup_steps)``. ``schedule`` is a theon schedule or any
    callable taking a step (or a number: a constant rate)."""

    def __init__(self, schedule, warmup_steps, start=0.0):
        config = dict(schedule=schedule, warmup_steps=warmup_steps, start=start)
        if isinstance(schedule, (int, float)):
            schedule = PiecewiseConstantDecay([], [float(schedule)])
        if isinstance(schedule, LearningRateSchedule):
            super().__init__(_nn.warmup(schedule._fn, int(warmup_steps), float(start)), config)
            return
        if not callable(schedule):
            raise TypeError("Warmup: schedule must be a schedule, a callable or a number")
        # A Python callable stays in Python: held by a C++ closure it could form
        # a reference cycle through its globals that Python's GC cannot see.
        # The C++ warmup checks the arguments; the ramp is the same formula.
        _nn.warmup(_nn.step_decay(1.0, 1.0, 1), int(warmup_steps), float(start))
        n, s0 = int(warmup_steps), float(start)

        def fn(step):
            if step < 0:
                raise ValueError(f"[warmup] step must be >= 0, got {step}")
            if step >= n:
                return float(schedule(step - n))
            return s0 + (float(schedule(0)) - s0) * step / n

        super().__init__(fn, config)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while step <= boundaries[0], ``values[i]`` while
    boundaries[i-1] < step <= boundaries[i], ``values[-1]`` after."""

    def __init__(self, boundaries, values):
        super().__init__(_nn.piecewise_constant([int(b) for b in boundaries], [float(v) for v in values]),
                         dict(boundaries=list(boundaries), values=list(values)))
