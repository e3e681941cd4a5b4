// theon::nn models: training on a Fashion-MNIST subset, functional graphs with
// residual connections, save/load round trips and corrupted files, callbacks.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "nn_test_util.h"

using namespace theon;
using namespace nn_test;

namespace {

std::string tmp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("theon_nn_" + std::to_string(::getpid()) + "_" + name)).string();
}

// Two Gaussian blobs per class in 8 dims: learnable in a few epochs.
std::pair<Array, Array> blobs(int64_t n, uint64_t seed) {
  Array x = randn({n, 8}, seed, DType::Float32);
  std::vector<int64_t> y(static_cast<size_t>(n));
  auto xs = vals(x);
  for (int64_t i = 0; i < n; ++i) {
    y[size_t(i)] = i % 3;
    xs[size_t(i * 8 + y[size_t(i)])] += 3.0;
  }
  return {Array::from_vector(xs, {n, 8}).astype(DType::Float32), Array::from_vector(y)};
}

std::shared_ptr<nn::Sequential> small_mlp() {
  return std::make_shared<nn::Sequential>(std::vector<nn::LayerPtr>{
      std::make_shared<nn::Dense>(16, "relu"), std::make_shared<nn::BatchNorm>(nn::BatchNormOptions{.axis = -1}),
      std::make_shared<nn::Dropout>(0.1), std::make_shared<nn::Dense>(3)});
}

// Counts batches and samples seen, to check the last partial batch.
struct Counter : nn::Callback {
  int64_t batches = 0, epochs = 0;
  std::vector<double> sizes;
  void on_batch_begin(int64_t, const nn::Logs& l) override { sizes.push_back(l.at("size")); }
  void on_batch_end(int64_t, const nn::Logs&) override { ++batches; }
  void on_epoch_end(int, const nn::Logs&) override { ++epochs; }
};

}  // namespace

TEST(NnModel, FitLearnsAndHandlesThePartialBatch) {
  nn::set_global_seed(1);
  auto [x, y] = blobs(250, 2);
  auto model = small_mlp();
  model->compile(nn::adam(1e-2), "sparse_categorical_crossentropy", {"accuracy"}, true);
  auto counter = std::make_shared<Counter>();
  nn::FitOptions fo{.batch_size = 32, .epochs = 4, .callbacks = {counter}, .verbose = 0};
  auto h = model->fit(x, y, fo);
  ASSERT_EQ(h.history["loss"].size(), 4u);
  EXPECT_LT(h.history["loss"].back(), h.history["loss"].front());
  EXPECT_GT(h.history["accuracy"].back(), 0.9);
  EXPECT_EQ(counter->batches, 4 * 8);  // 250 = 7 * 32 + 26: the last 26 are a batch of their own
  EXPECT_EQ(counter->sizes.back(), 26);
  auto logs = model->evaluate(x, y);
  EXPECT_GT(logs["accuracy"], 0.9);
  Array p = model->predict(x, 100);
  EXPECT_EQ(p.shape(), (Shape{250, 3}));
  // BatchNorm's moving statistics were updated by the training function.
  auto mm = vals(get_value(model->layers()[1]->non_trainable_weights()[0]));
  double s = 0;
  for (double v : mm) s += std::fabs(v);
  EXPECT_GT(s, 0);
  EXPECT_EQ(model->params().size(), 6u);  // dense k,b; bn gamma, beta; dense k,b
  EXPECT_EQ(model->weights().size(), 8u);
}

TEST(NnModel, FashionMnistSubsetTrainsAboveChance) {
  Dataset d;
  try {
    d = fashion_mnist();
  } catch (const std::exception& e) {
    GTEST_SKIP() << e.what();
  }
  nn::set_global_seed(3);
  int64_t n = 2000;
  Array x = d.train_images.slice(0, 0, n, 1).reshape({n, 1, 28, 28});
  Array y = d.train_labels.slice(0, 0, n, 1);
  auto model = std::make_shared<nn::Sequential>(std::vector<nn::LayerPtr>{
      std::make_shared<nn::Conv2D>(8, 3, nn::Conv2DOptions{.padding = "same", .activation = "relu"}),
      std::make_shared<nn::MaxPool2D>(2), std::make_shared<nn::Flatten>(), std::make_shared<nn::Dense>(10)});
  model->compile(nn::adam(3e-3), "sparse_categorical_crossentropy", {"accuracy"}, true);
  auto h = model->fit(x, y, nn::FitOptions{.batch_size = 100, .epochs = 2, .verbose = 0});
  EXPECT_LT(h.history["loss"][1], h.history["loss"][0]);
  Array xt = d.test_images.slice(0, 0, 1000, 1).reshape({1000, 1, 28, 28});
  auto logs = model->evaluate(xt, d.test_labels.slice(0, 0, 1000, 1));
  EXPECT_GT(logs["accuracy"], 0.6);  // chance is 0.1
}

TEST(NnModel, FunctionalResidualModel) {
  nn::set_global_seed(4);
  Var in = nn::Input({8});
  auto d1 = std::make_shared<nn::Dense>(8, "relu");
  auto d2 = std::make_shared<nn::Dense>(8);
  auto add = std::make_shared<nn::Add>();
  auto cat = std::make_shared<nn::Concatenate>();
  auto out = std::make_shared<nn::Dense>(3);
  Var h = (*d1)(in);
  Var r = (*add)(std::vector<Var>{in, (*d2)(h)});
  Var c = (*cat)(std::vector<Var>{r, h});
  Var o = (*out)(c);
  auto model = std::make_shared<nn::Model>(in, o, "resnet");
  EXPECT_EQ(model->layers().size(), 5u);
  auto [x, y] = blobs(120, 5);
  // The model computes what the layers compute by hand.
  Array xb = x.slice(0, 0, 4, 1);
  auto want = vals(eval(o, {{in, xb}}));
  expect_close(vals(model->predict(xb)), want, 1e-6);
  model->compile(nn::sgd(0.1, 0.9), "sparse_categorical_crossentropy", {"accuracy"}, true);
  auto hist = model->fit(x, y, nn::FitOptions{.batch_size = 16, .epochs = 5, .verbose = 0});
  EXPECT_GT(hist.history["accuracy"].back(), 0.8);
  // A tensor not computed from the inputs by layers is refused.
  EXPECT_THROW(nn::Model(in, o + 1.0), std::invalid_argument);
}

TEST(NnModel, SaveLoadRoundTripIsBitExact) {
  nn::set_global_seed(5);
  auto [x, y] = blobs(64, 6);
  auto model = small_mlp();
  model->compile(nn::adam(1e-2), "sparse_categorical_crossentropy", {"accuracy"}, true);
  model->fit(x, y, nn::FitOptions{.batch_size = 16, .epochs = 2, .verbose = 0});
  std::string path = tmp_path("model.theon");
  model->save(path);
  auto loaded = nn::load_model(path);
  EXPECT_EQ(loaded->class_name(), "Sequential");
  ASSERT_EQ(loaded->weights().size(), model->weights().size());
  for (size_t i = 0; i < model->weights().size(); ++i) {
    EXPECT_EQ(loaded->weights()[i].name(), model->weights()[i].name());
    EXPECT_EQ(vals(get_value(loaded->weights()[i])), vals(get_value(model->weights()[i])));
  }
  EXPECT_EQ(vals(loaded->predict(x)), vals(model->predict(x)));
  // The optimizer state came back too: one more identical step on each gives identical weights.
  ASSERT_TRUE(loaded->compiled());
  EXPECT_EQ(loaded->optimizer()->name(), "adam");
  EXPECT_EQ(vals(get_value(loaded->optimizer()->iterations())), vals(get_value(model->optimizer()->iterations())));
  nn::FitOptions one{.batch_size = 64, .epochs = 1, .shuffle = false, .verbose = 0};
  // Dropout masks differ between the two models' random streams, so compare without dropout's effect:
  // evaluate-mode weights after a step depend on the mask; check the Adam moments instead.
  auto st1 = model->optimizer()->state(), st2 = loaded->optimizer()->state();
  ASSERT_EQ(st1.size(), st2.size());
  for (size_t i = 0; i < st1.size(); ++i) EXPECT_EQ(vals(get_value(st1[i])), vals(get_value(st2[i]))) << st1[i].name();
  loaded->fit(x, y, one);

  // Weights-only files and .npz export.
  std::string wpath = tmp_path("weights.theon"), npz = tmp_path("weights.npz");
  model->save_weights(wpath);
  model->save_weights(npz);
  auto fresh = small_mlp();
  fresh->build({8});
  fresh->load_weights(npz);
  EXPECT_EQ(vals(fresh->predict(x)), vals(model->predict(x)));
  auto fresh2 = small_mlp();
  fresh2->build({8});
  fresh2->load_weights(wpath);
  EXPECT_EQ(vals(fresh2->predict(x)), vals(model->predict(x)));
  // A model with other layer names or shapes is refused, and nothing changes.
  auto other = std::make_shared<nn::Sequential>(std::vector<nn::LayerPtr>{std::make_shared<nn::Dense>(4)});
  other->build({8});
  auto before = vals(get_value(other->weights()[0]));
  EXPECT_THROW(other->load_weights(wpath), std::runtime_error);
  EXPECT_EQ(vals(get_value(other->weights()[0])), before);
  EXPECT_THROW(nn::load_model(wpath), std::runtime_error);  // weights only: no architecture
  for (const auto& p : {path, wpath, npz}) std::remove(p.c_str());
}

TEST(NnModel, FunctionalModelSavesAndLoads) {
  nn::set_global_seed(6);
  Var in = nn::Input({1, 6, 6});
  auto conv = std::make_shared<nn::Conv2D>(3, 3, nn::Conv2DOptions{.padding = "same"});
  auto bn = std::make_shared<nn::BatchNorm>();
  Var a = (*conv)(in);
  Var b = (*std::make_shared<nn::Activation>("relu"))((*bn)(a));
  Var s = (*std::make_shared<nn::Add>())(std::vector<Var>{a, b});
  Var o = (*std::make_shared<nn::Dense>(2))((*std::make_shared<nn::GlobalAvgPool2D>())(s));
  auto model = std::make_shared<nn::Model>(in, o);
  std::string path = tmp_path("functional.theon");
  model->save(path, false);
  auto loaded = nn::load_model(path);
  EXPECT_EQ(loaded->class_name(), "Model");
  EXPECT_FALSE(loaded->compiled());
  Array x = randn({3, 1, 6, 6}, 7, DType::Float32);
  EXPECT_EQ(vals(loaded->predict(x)), vals(model->predict(x)));
  std::remove(path.c_str());
}

TEST(NnModel, TruncatedCorruptedAndHostileFilesAreErrors) {
  nn::set_global_seed(7);
  auto model = small_mlp();
  model->build({8});
  std::string path = tmp_path("t.theon");
  model->save(path);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string bad = tmp_path("bad.theon");
  auto write = [&](const std::string& b) {
    std::ofstream out(bad, std::ios::binary | std::ios::trunc);
    out << b;
  };
  for (size_t cut : {size_t(0), size_t(10), size_t(70), bytes.size() / 2, bytes.size() - 1}) {
    write(bytes.substr(0, cut));
    EXPECT_THROW(nn::load_model(bad), std::runtime_error) << "cut at " << cut;
  }
  std::mt19937 rng(1);
  for (int k = 0; k < 30; ++k) {
    std::string b = bytes;
    b[rng() % b.size()] ^= char(1 + rng() % 255);
    write(b);
    try {
      auto m = nn::load_model(bad);  // a flip in padding may load; it must then be a valid model
      EXPECT_TRUE(m->built());
    } catch (const std::runtime_error&) {
    }
  }
  // A well-formed file whose architecture JSON is hostile: deep nesting, unknown layers.
  for (const char* meta : {"{\"format\": \"theon.nn.model\", \"model\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                           "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
                           "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
                           "{\"format\": \"theon.nn.model\", \"model\": {\"class_name\": \"Sequential\", \"config\": "
                           "{\"layers\": [{\"class_name\": \"Exec\", \"config\": {}}]}}}",
                           "{\"format\": \"theon.nn.model\", \"model\": {\"class_name\": \"Model\", \"config\": "
                           "{\"layers\": [], \"inputs\": [{\"shape\": [3]}], \"nodes\": [{\"layer\": 5, \"inputs\": [0]}]}}}",
                           "not json"}) {
    nn::save_model_file(bad, meta, {});
    EXPECT_THROW(nn::load_model(bad), std::runtime_error) << meta;
  }
  std::remove(path.c_str());
  std::remove(bad.c_str());
}

TEST(NnCallbacks, EarlyStoppingCheckpointCsvAndScheduler) {
  nn::set_global_seed(8);
  auto [x, y] = blobs(96, 9);
  auto model = small_mlp();
  model->compile(nn::sgd(0.05), "sparse_categorical_crossentropy", {"accuracy"}, true);
  // A monitor that never improves after the first epoch ("max" of the loss) stops after `patience` epochs.
  auto es = std::make_shared<nn::EarlyStopping>("loss", 2, 0.0, "max", true);
  std::string csv = tmp_path("log.csv"), ck = tmp_path("ck_{epoch:02d}.theon");
  auto logger = std::make_shared<nn::CSVLogger>(csv);
  auto ckpt = std::make_shared<nn::ModelCheckpoint>(ck, "loss", false, true);
  std::vector<double> lrs;
  auto sched = std::make_shared<nn::LearningRateScheduler>([&](int64_t epoch, double lr) {
    lrs.push_back(lr);
    return 0.05 / double(epoch + 1);
  });
  auto h = model->fit(x, y, nn::FitOptions{.batch_size = 32, .epochs = 10, .callbacks = {es, logger, ckpt, sched},
                                           .verbose = 0});
  EXPECT_EQ(h.history["loss"].size(), 3u);  // epoch 0 best, then 2 without improvement
  EXPECT_EQ(es->stopped_epoch(), 2);
  EXPECT_EQ(es->best_epoch(), 0);
  EXPECT_NEAR(model->optimizer()->get_learning_rate(), 0.05 / 3, 1e-9);
  ASSERT_EQ(lrs.size(), 3u);
  EXPECT_NEAR(lrs[1], 0.05, 1e-9);
  // restore_best_weights: the weights of epoch 0 (saved by the checkpoint after epoch 1).
  auto ref = small_mlp();
  ref->build({8});
  ref->load_weights(tmp_path("ck_01.theon"));
  for (size_t i = 0; i < ref->weights().size(); ++i)
    EXPECT_EQ(vals(get_value(ref->weights()[i])), vals(get_value(model->weights()[i])));
  EXPECT_EQ(ckpt->last_saved(), tmp_path("ck_03.theon"));
  std::ifstream f(csv);
  std::string header, line;
  std::getline(f, header);
  EXPECT_EQ(header.rfind("epoch,accuracy,", 0), 0u) << header;
  int rows = 0;
  while (std::getline(f, line)) ++rows;
  EXPECT_EQ(rows, 3);
  for (int e = 1; e <= 3; ++e) {
    char name[32];
    std::snprintf(name, sizeof name, "ck_%02d.theon", e);
    std::remove(tmp_path(name).c_str());
  }
  std::remove(csv.c_str());
}

TEST(NnModel, ErrorsAreClear) {
  auto model = small_mlp();
  auto [x, y] = blobs(10, 1);
  EXPECT_THROW(model->fit(x, y), std::logic_error);  // not compiled
  model->compile(nn::sgd(), "sparse_categorical_crossentropy");
  EXPECT_THROW(model->fit(x, y, nn::FitOptions{.batch_size = 0}), std::invalid_argument);
  EXPECT_THROW(model->fit(x, x), std::invalid_argument);  // targets of the wrong rank
  EXPECT_THROW(model->fit(x, y.slice(0, 0, 5, 1), nn::FitOptions{.verbose = 0}), std::invalid_argument);
  EXPECT_THROW(model->predict(randn({4, 7}, 1, DType::Float32)), std::invalid_argument);
  EXPECT_THROW(model->compile(nn::sgd(), "sparse_categorical_crossentropy", {"f1"}), std::invalid_argument);
  EXPECT_THROW(nn::load_model(tmp_path("does_not_exist.theon")), std::runtime_error);
}

TEST(NnModel, WeightPenaltiesAreAddedToTheLoss) {
  nn::set_global_seed(9);
  auto [x, y] = blobs(40, 10);
  auto dense = std::make_shared<nn::Dense>(3, nn::DenseOptions{.kernel_regularizer = nn::l1_l2(0.01, 0.5)});
  auto model = std::make_shared<nn::Sequential>(std::vector<nn::LayerPtr>{dense});
  model->compile(nn::sgd(0.1), "sparse_categorical_crossentropy", {}, true);
  model->build({8});
  double loss = model->evaluate(x, y)["loss"];
  // Reference: mean cross-entropy of the logits plus 0.01 * sum|W| + 0.5 * sum W^2.
  auto z = vals(model->predict(x));
  auto w = vals(get_value(dense->trainable_weights()[0]));
  auto yl = y.to_int_vector();
  double ce = 0, pen = 0;
  for (size_t i = 0; i < 40; ++i) {
    double m = std::max({z[i * 3], z[i * 3 + 1], z[i * 3 + 2]}), s = 0;
    for (size_t k = 0; k < 3; ++k) s += std::exp(z[i * 3 + k] - m);
    ce += (m + std::log(s) - z[i * 3 + size_t(yl[i])]) / 40;
  }
  for (double v : w) pen += 0.01 * std::fabs(v) + 0.5 * v * v;
  EXPECT_NEAR(loss, ce + pen, 1e-4 * (ce + pen));
  // Training shrinks the penalized kernel; validation_split holds out the last samples.
  auto h = model->fit(x, y, nn::FitOptions{.batch_size = 8, .epochs = 3, .validation_split = 0.25, .verbose = 0});
  EXPECT_EQ(h.history["val_loss"].size(), 3u);
  double pen_after = 0;
  for (double v : vals(get_value(dense->trainable_weights()[0]))) pen_after += 0.01 * std::fabs(v) + 0.5 * v * v;
  EXPECT_LT(pen_after, pen);
}
