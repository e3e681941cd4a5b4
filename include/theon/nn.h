// theon/nn.h — theon.nn, the high-level neural-network API (layers, models, training, saving).
//
//   using namespace theon;
//   auto model = std::make_shared<nn::Sequential>(std::vector<nn::LayerPtr>{
//       std::make_shared<nn::Conv2D>(32, 3, nn::Conv2DOptions{.padding = "same", .activation = "relu"}),
//       std::make_shared<nn::MaxPool2D>(2), std::make_shared<nn::Flatten>(),
//       std::make_shared<nn::Dense>(10)});
//   model->compile(nn::adam(1e-3), "sparse_categorical_crossentropy", {"accuracy"}, /*from_logits=*/true);
//   auto history = model->fit(x, y, {.batch_size = 128, .epochs = 5});
//   model->save("model.theon");
//
// Everything is built on the public graph API: layers build graphs of theon
// ops, fit compiles them with theon::function and Theano-style updates.
#pragma once
#include "theon/nn/activations.h"
#include "theon/nn/callbacks.h"
#include "theon/nn/initializers.h"
#include "theon/nn/json.h"
#include "theon/nn/layer.h"
#include "theon/nn/layers.h"
#include "theon/nn/losses.h"
#include "theon/nn/model.h"
#include "theon/nn/optimizers.h"
#include "theon/nn/progress.h"
#include "theon/nn/schedules.h"
#include "theon/nn/serialization.h"
