// theon/ops/families.h — the op families beyond the core (one header each).
#pragma once
