// DLPack round trips: zero copy, strides kept, the producer's deleter runs once.
#include <gtest/gtest.h>

#include <theon/runtime/dlpack.h>

using namespace theon;

TEST(DLPack, RoundTripSharesMemoryAndCallsDeleter) {
  Array a = Array::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  Array t = a.transpose();
  DLManagedTensor* m = to_dlpack(t);
  EXPECT_EQ(m->dl_tensor.ndim, 2);
  EXPECT_EQ(m->dl_tensor.strides[0], 1);
  EXPECT_EQ(m->dl_tensor.strides[1], 3);
  Array back = from_dlpack(m);
  EXPECT_EQ(back.data(), t.data());
  EXPECT_EQ(back.copy().to_double_vector(), t.copy().to_double_vector());
  EXPECT_EQ(back.dtype(), DType::Float32);
}

TEST(DLPack, RejectsNonCpuAndReleases) {
  static int deleted = 0;
  auto* m = new DLManagedTensor{};
  static int64_t shp[1] = {2};
  static float data[2] = {1, 2};
  m->dl_tensor = DLTensor{data, {2, 0}, 1, {2, 32, 1}, shp, nullptr, 0};
  m->deleter = [](DLManagedTensor* self) {
    ++deleted;
    delete self;
  };
  EXPECT_THROW(from_dlpack(m), std::invalid_argument);
  EXPECT_EQ(deleted, 1);
}
