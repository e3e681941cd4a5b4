// Factories of the built-in layers: config JSON -> layer (the inverse of get_config).
#include "layers_internal.h"
#include "theon/nn/layers.h"
#include "theon/nn/recurrent.h"

namespace theon::nn {

namespace {
Regularizer reg(const Json& c, const char* key) { return Regularizer::from_json(c.get(key, Json())); }
Initializer init(const Json& c, const char* key, const char* dflt) { return Initializer::from_json(c.get(key, dflt)); }
// The options every kernel-and-bias layer (Dense, Conv2D) shares.
template <class Options>
void read_kernel_options(const Json& c, Options& o) {
  o.activation = c.get("activation", "linear").as_string("activation");
  o.use_bias = c.get("use_bias", true).as_bool("use_bias");
  o.kernel_initializer = init(c, "kernel_initializer", "glorot_uniform");
  o.bias_initializer = init(c, "bias_initializer", "zeros");
  o.kernel_regularizer = reg(c, "kernel_regularizer");
  o.bias_regularizer = reg(c, "bias_regularizer");
  o.name = cfg_name(c);
}
}  // namespace

void register_builtin_layers() {
  add_layer_factory("Dense", [](const Json& c) -> LayerPtr {
    DenseOptions o;
    read_kernel_options(c, o);
    return std::make_shared<Dense>(c.at("units").as_int("units"), o);
  });
  add_layer_factory("Conv2D", [](const Json& c) -> LayerPtr {
    Conv2DOptions o;
    o.strides = json_pair(c.get("strides", Json::ints({1, 1})), "strides");
    o.padding = c.get("padding", "valid").as_string("padding");
    o.dilation_rate = json_pair(c.get("dilation_rate", Json::ints({1, 1})), "dilation_rate");
    o.groups = c.get("groups", 1).as_int("groups");
    read_kernel_options(c, o);
    return std::make_shared<Conv2D>(c.at("filters").as_int("filters"), json_pair(c.at("kernel_size"), "kernel_size"), o);
  });
  add_layer_factory("MaxPool2D", [](const Json& c) -> LayerPtr {
    return std::make_shared<MaxPool2D>(json_pair(c.get("pool_size", Json::ints({2, 2})), "pool_size"),
                                       json_pair(c.get("strides", Json::ints({0, 0})), "strides"),
                                       c.get("padding", "valid").as_string("padding"), cfg_name(c));
  });
  add_layer_factory("AvgPool2D", [](const Json& c) -> LayerPtr {
    return std::make_shared<AvgPool2D>(json_pair(c.get("pool_size", Json::ints({2, 2})), "pool_size"),
                                       json_pair(c.get("strides", Json::ints({0, 0})), "strides"),
                                       c.get("padding", "valid").as_string("padding"), cfg_name(c));
  });
  add_layer_factory("GlobalAvgPool2D", [](const Json& c) -> LayerPtr { return std::make_shared<GlobalAvgPool2D>(cfg_name(c)); });
  add_layer_factory("Flatten", [](const Json& c) -> LayerPtr { return std::make_shared<Flatten>(cfg_name(c)); });
  add_layer_factory("Reshape", [](const Json& c) -> LayerPtr {
    return std::make_shared<Reshape>(c.at("target_shape").as_ints("target_shape"), cfg_name(c));
  });
  add_layer_factory("Dropout", [](const Json& c) -> LayerPtr {
    return std::make_shared<Dropout>(c.at("rate").as_double("rate"), uint64_t(c.get("seed", 0).as_int("seed")), cfg_name(c));
  });
  add_layer_factory("BatchNorm", [](const Json& c) -> LayerPtr {
    BatchNormOptions o;
    o.axis = int(c.get("axis", 1).as_int("axis"));
    o.momentum = c.get("momentum", 0.99).as_double("momentum");
    o.epsilon = c.get("epsilon", 1e-3).as_double("epsilon");
    o.center = c.get("center", true).as_bool("center");
    o.scale = c.get("scale", true).as_bool("scale");
    o.name = cfg_name(c);
    return std::make_shared<BatchNorm>(o);
  });
  add_layer_factory("LayerNorm", [](const Json& c) -> LayerPtr {
    return std::make_shared<LayerNorm>(c.get("epsilon", 1e-3).as_double("epsilon"), c.get("center", true).as_bool("center"),
                                       c.get("scale", true).as_bool("scale"), cfg_name(c));
  });
  add_layer_factory("Embedding", [](const Json& c) -> LayerPtr {
    return std::make_shared<Embedding>(c.at("input_dim").as_int("input_dim"), c.at("output_dim").as_int("output_dim"),
                                       Initializer::from_json(c.get("embeddings_initializer", "glorot_uniform")),
                                       cfg_name(c));
  });
  add_layer_factory("Activation", [](const Json& c) -> LayerPtr {
    return std::make_shared<Activation>(c.at("activation").as_string("activation"), c.get("alpha", -1.0).as_double("alpha"),
                                        cfg_name(c));
  });
  add_layer_factory("Add", [](const Json& c) -> LayerPtr { return std::make_shared<Add>(cfg_name(c)); });
  add_layer_factory("Concatenate", [](const Json& c) -> LayerPtr {
    return std::make_shared<Concatenate>(int(c.get("axis", -1).as_int("axis")), cfg_name(c));
  });
  register_recurrent_layers();  // layers_recurrent.cpp
}

}  // namespace theon::nn
