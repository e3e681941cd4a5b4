// theon/ops/families.h — the op families beyond the core (one header each).
#pragma once
#include "theon/ops/creation.h"
#include "theon/ops/join.h"
#include "theon/ops/shape_extra.h"
#include "theon/ops/subtensor.h"
#include "theon/ops/blas.h"
#include "theon/ops/linalg.h"
#include "theon/ops/sort.h"
#include "theon/ops/nnet.h"
#include "theon/ops/conv.h"
#include "theon/ops/pool.h"
#include "theon/ops/batchnorm.h"
#include "theon/ops/random.h"
