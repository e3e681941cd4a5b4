// theon/theon.h — the whole public C++ API of theon.
//
// theon is Theano rebuilt in C++: declare symbolic variables, build an
// expression over n-dimensional arrays, compile it with `function`, call it.
//
//   auto x = theon::matrix(theon::DType::Float64, "x");
//   auto y = theon::sum(theon::exp(x) * 2.0, std::vector<int>{1});
//   auto f = theon::function({x}, {y});
//   theon::Array out = (*f)({some_array})[0];
#pragma once

#include "theon/config.h"
#include "theon/runtime/array.h"
#include "theon/runtime/dtype.h"
#include "theon/runtime/dlpack.h"
#include "theon/graph/node.h"
#include "theon/graph/shared.h"
#include "theon/graph/type.h"
#include "theon/ops/elemwise.h"
#include "theon/ops/reduce.h"
#include "theon/ops/shape.h"
#include "theon/ops/families.h"
#include "theon/compile/function.h"
#include "theon/compile/mode.h"
#include "theon/rewrite/fgraph.h"
#include "theon/rewrite/pattern.h"
#include "theon/rewrite/rewriter.h"
#include "theon/printing/printing.h"
#include "theon/autodiff/grad.h"
#include "theon/autodiff/verify_grad.h"
#include "theon/ops/map.h"
#include "theon/datasets/fashion_mnist.h"
