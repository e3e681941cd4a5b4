"""A classic Theano program, run by theon with only the imports changed."""
import numpy as np

import theon as theano
import theon.tensor as T

x = T.dmatrix("x")
b = T.dvector("b")
w = theano.shared(np.full(3, 0.5), name="w")

# softplus of an affine map, summed per row; the shared weights grow on each call
y = T.log1p(T.exp(x * 2.0 + b)) * w
out = y.sum(axis=1)
f = theano.function([x, b], out, updates={w: w * 2.0}, name="example")

print("Graph of the output:")
theano.printing.debugprint(out)
print("\nCompiled function:")
theano.printing.debugprint(f)

xv = np.arange(6.0).reshape(2, 3)
bv = np.array([-1.0, 0.0, 1.0])
result = f(xv, bv)
expected = (np.log1p(np.exp(xv * 2.0 + bv)) * 0.5).sum(axis=1)
print("\nresult   =", result)
print("expected =", expected)
print("w after one call =", w.get_value())
assert np.allclose(result, expected)
