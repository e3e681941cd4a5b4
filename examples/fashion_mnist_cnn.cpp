// A small CNN on Fashion-MNIST with theon::nn, from C++ alone: the same network
// as examples/fashion_mnist_cnn.py (two conv+pool blocks, dense, dropout, softmax).
//
//   fashion_mnist_cnn [epochs=4] [train_samples=60000] [model_path=fashion_mnist_cnn.theon]
//   fashion_mnist_cnn --evaluate MODEL_PATH [test_samples=10000]
//
// The second form loads a saved model (from C++ or Python) and prints its
// accuracy on the first test images.
//
// Trains with a progress bar, reports the test accuracy and the time per
// epoch, saves the model, reloads it and checks the reloaded model's accuracy.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <theon/datasets/fashion_mnist.h>
#include <theon/nn.h>

using namespace theon;

// The network of the main job; logits out (softmax folded into the loss).
std::shared_ptr<nn::Sequential> make_cnn() {
  using nn::Conv2DOptions;
  auto conv = [](int64_t filters) {
    return std::make_shared<nn::Conv2D>(filters, 3, Conv2DOptions{.padding = "same", .activation = "relu"});
  };
  return std::make_shared<nn::Sequential>(std::vector<nn::LayerPtr>{
      conv(32), std::make_shared<nn::MaxPool2D>(2), conv(64), std::make_shared<nn::MaxPool2D>(2),
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Dense>(128, "relu"), std::make_shared<nn::Dropout>(0.3),
      std::make_shared<nn::Dense>(10)}, "fashion_mnist_cnn");
}

int evaluate_saved(const std::string& path, int64_t n_test) {
  Dataset d = fashion_mnist();
  n_test = std::min<int64_t>(n_test, d.test_images.shape()[0]);
  Array xt = d.test_images.slice(0, 0, n_test, 1).reshape({n_test, 1, 28, 28});
  auto model = nn::load_model(path);
  if (!model->compiled()) model->compile(nn::sgd(), "sparse_categorical_crossentropy", {"accuracy"}, true);
  auto logs = model->evaluate(xt, d.test_labels.slice(0, 0, n_test, 1));
  std::printf("loaded %s: test accuracy %.6f loss %.6f on %lld images\n", path.c_str(), logs["accuracy"], logs["loss"],
              static_cast<long long>(n_test));
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 2 && std::string(argv[1]) == "--evaluate")
    return evaluate_saved(argv[2], argc > 3 ? std::atoll(argv[3]) : 10000);
  int epochs = argc > 1 ? std::atoi(argv[1]) : 4;
  int64_t n_train = argc > 2 ? std::atoll(argv[2]) : 60000;
  std::string path = argc > 3 ? argv[3] : "fashion_mnist_cnn.theon";
  nn::set_global_seed(1234);

  Dataset d = fashion_mnist();
  n_train = std::min<int64_t>(n_train, d.train_images.shape()[0]);
  int64_t n_test = std::min<int64_t>(d.test_images.shape()[0], std::max<int64_t>(n_train / 6, 1000));
  Array x = d.train_images.slice(0, 0, n_train, 1).reshape({n_train, 1, 28, 28});
  Array y = d.train_labels.slice(0, 0, n_train, 1);
  Array xt = d.test_images.slice(0, 0, n_test, 1).reshape({n_test, 1, 28, 28});
  Array yt = d.test_labels.slice(0, 0, n_test, 1);

  auto model = make_cnn();
  model->compile(nn::adam(1e-3), "sparse_categorical_crossentropy", {"accuracy"}, /*from_logits=*/true);
  model->build({1, 28, 28});
  std::printf("%s", model->summary().c_str());
  nn::FitOptions fo;
  fo.batch_size = 128;
  fo.epochs = epochs;
  fo.validation_data = {{xt}, yt};
  // Adam at 1e-3, halved for each of the last two epochs (as the Python example).
  fo.callbacks.push_back(std::make_shared<nn::LearningRateScheduler>(
      [epochs](int64_t epoch, double) { return 1e-3 * std::pow(0.5, std::max<int64_t>(0, epoch - (epochs - 3))); }));
  auto h = model->fit(x, y, fo);
  double secs = 0;
  for (double s : h.history["epoch_seconds"]) secs += s;
  auto logs = model->evaluate(xt, yt);
  std::printf("test accuracy %.6f (loss %.4f) on %lld images; %.1fs per epoch\n", logs["accuracy"], logs["loss"],
              static_cast<long long>(n_test), epochs ? secs / epochs : 0.0);
  model->save(path);
  auto loaded = nn::load_model(path);
  auto logs2 = loaded->evaluate(xt, yt);
  std::printf("reloaded from %s: test accuracy %.6f\n", path.c_str(), logs2["accuracy"]);
  if (logs2["accuracy"] != logs["accuracy"]) {
    std::fprintf(stderr, "the reloaded model's accuracy differs\n");
    return 1;
  }
  return 0;
}
