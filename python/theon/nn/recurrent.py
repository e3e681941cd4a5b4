"""theon.nn.recurrent — SimpleRNN, LSTM, GRU and Bidirectional (C++ classes of theon/nn/recurrent.h).

Keras semantics: inputs are (batch, time, features); the output is the last
step's (batch, units), or every step's with ``return_sequences=True``. The
weights have Keras' layout (kernel (features, k*units), recurrent_kernel
(units, k*units), bias (k*units), GRU's bias (2, 3*units) with
``reset_after=True``), gates in Keras' order: i, f, c, o for LSTM and z, r, h
for GRU. The loop is a theon scan; its gradient is scan's backward loop::

    lstm = nn.LSTM(64, return_sequences=True)
    y = lstm(x, mask=m)              # m: (batch, time), nonzero for valid steps
    y, h, c = nn.LSTM(64, return_state=True)(x)
    bi = nn.Bidirectional(nn.GRU(32), merge_mode="concat")

A masked step keeps the previous state; its output is that state, or zeros
with ``zero_output_for_mask=True`` (Bidirectional sets it). ``dropout`` and
``recurrent_dropout`` are not implemented (a nonzero value raises).
``layer.forward_with(x, kernel, recurrent_kernel, bias)`` runs the layer's
recurrence on explicit weights (for gradient checks).
"""
from theon import _core

_nn = _core.nn

Recurrent = _nn.Recurrent
SimpleRNN = _nn.SimpleRNN
LSTM = _nn.LSTM
GRU = _nn.GRU
Bidirectional = _nn.Bidirectional

__all__ = ["Bidirectional", "GRU", "LSTM", "Recurrent", "SimpleRNN"]
