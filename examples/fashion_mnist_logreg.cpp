// The main job's twin in C++ alone: logistic regression on Fashion-MNIST with
// shared datasets, a minibatch index through givens, grad() and updates.
#include <chrono>
#include <iostream>

#include <theon/theon.h>

int main(int argc, char** argv) {
  using namespace theon;
  const int epochs = argc > 1 ? std::atoi(argv[1]) : 5;
  const int64_t batch = 600;
  const double lr = 0.13;
  Dataset data;
  try {
    data = fashion_mnist();
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  Var train_x = shared(data.train_images, "train_x", true);
  Var train_y = shared(data.train_labels, "train_y", true);
  Var test_x = shared(data.test_images, "test_x", true);
  Var test_y = shared(data.test_labels, "test_y", true);

  Var index = scalar(DType::Int64, "index");
  Var x = matrix(DType::Float32, "x");
  Var y = vector(DType::Int64, "y");
  Var W = shared(Array::zeros(DType::Float32, {784, 10}), "W");
  Var b = shared(Array::zeros(DType::Float32, {10}), "b");

  Var p = softmax(dot(x, W) + b);
  Var cost = mean(crossentropy_categorical_1hot(p, y));
  Var errors = mean(cast(neq(argmax(p, 1), y), DType::Float64));
  std::vector<Var> g = grad(cost, {W, b});

  Var start = index * constant(double(batch), DType::Int64);
  Var stop = start + constant(double(batch), DType::Int64);
  FunctionOptions train_opt;
  train_opt.updates = {{W, W - g[0] * lr}, {b, b - g[1] * lr}};
  train_opt.givens = {{x, subtensor(train_x, {IndexItem::slice(start, stop)})},
                      {y, subtensor(train_y, {IndexItem::slice(start, stop)})}};
  auto train = function({index}, {cost}, train_opt);
  FunctionOptions test_opt;
  test_opt.givens = {{x, test_x}, {y, test_y}};
  auto test = function({}, {errors}, test_opt);

  const int64_t n_batches = data.train_images.shape()[0] / batch;
  auto t0 = std::chrono::steady_clock::now();
  for (int e = 1; e <= epochs; ++e) {
    double total = 0;
    for (int64_t i = 0; i < n_batches; ++i)
      total += (*train)({Array::scalar(DType::Int64, double(i))})[0].item_double();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "epoch " << e << ": mean training cost " << total / double(n_batches) << ", test error "
              << 100 * (*test)({})[0].item_double() << "% (" << secs << "s)\n";
  }
  double err = 100 * (*test)({})[0].item_double();
  std::cout << "Final test error: " << err << "%\n";
  // Random guessing is 90% error; a few epochs of logistic regression reach about 20%.
  return err < 25 ? 0 : 1;
}
