// theon/datasets/fashion_mnist.h — reading IDX files and the Fashion-MNIST dataset.
//
// read_idx reads one (optionally gzip-compressed) IDX file into an Array,
// checking the magic number, the dimension count, the declared sizes against
// the data actually present, and refusing absurd sizes before allocating.
// fashion_mnist() loads Debian's dataset-fashion-mnist files
// (/usr/share/datasets/fashion-mnist by default, or $THEON_FASHION_MNIST_DIR).
#pragma once
#include <string>

#include "theon/runtime/array.h"

namespace theon {

// Reads an IDX file (.gz or raw). Throws std::runtime_error naming the file
// when it is missing, truncated or malformed.
Array read_idx(const std::string& path);

struct Dataset {
  Array train_images;  // float32 (60000, 784) in [0, 1]
  Array train_labels;  // int64 (60000,)
  Array test_images;   // float32 (10000, 784) in [0, 1]
  Array test_labels;   // int64 (10000,)
};

// The default directory of the dataset files.
std::string fashion_mnist_dir();
// Loads Fashion-MNIST from `dir` (empty: fashion_mnist_dir()), images scaled to [0, 1] and flattened.
Dataset fashion_mnist(const std::string& dir = "");

}  // namespace theon
