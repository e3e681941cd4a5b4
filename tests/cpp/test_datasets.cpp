// The C++ IDX reader on the real Fashion-MNIST files and on bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <theon/theon.h>

using namespace theon;

TEST(Datasets, FashionMnistLoads) {
  if (!std::filesystem::exists(fashion_mnist_dir() + "/t10k-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  Dataset d = fashion_mnist();
  EXPECT_EQ(d.train_images.shape(), (Shape{60000, 784}));
  EXPECT_EQ(d.test_labels.shape(), (Shape{10000}));
  EXPECT_EQ(d.train_images.dtype(), DType::Float32);
  auto labels = d.test_labels.to_int_vector();
  std::vector<int> count(10, 0);
  for (auto l : labels) ++count.at(size_t(l));
  for (int c : count) EXPECT_EQ(c, 1000);
}

TEST(Datasets, BadFilesGiveClearErrors) {
  auto dir = std::filesystem::temp_directory_path() / "theon_idx_test";
  std::filesystem::create_directories(dir);
  EXPECT_THROW(read_idx((dir / "missing.gz").string()), std::runtime_error);
  {
    std::ofstream f(dir / "short.idx", std::ios::binary);
    const char hdr[] = {0, 0, 8, 1, 0, 0, 0, 10, 1, 2, 3};
    f.write(hdr, sizeof hdr);
  }
  try {
    read_idx((dir / "short.idx").string());
    FAIL() << "truncated file accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}
