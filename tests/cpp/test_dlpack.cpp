// DLPack round trips: zero copy, strides kept, the producer's deleter runs once;
// CUDA tensors become device Arrays (run here on the CUDA host emulator).
#include <gtest/gtest.h>
#include <theon/backend/cuda_device.h>
#include <theon/backend/device.h>
#include <theon/runtime/dlpack.h>

#include <string>
#include <vector>

#include "../../src/backend/cuda/emulator/host_compiler.h"

using namespace theon;

TEST(DLPack, RoundTripSharesMemoryAndCallsDeleter) {
  Array a = Array::from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  Array t = a.transpose();
  DLManagedTensor* m = to_dlpack(t);
  EXPECT_EQ(m->dl_tensor.ndim, 2);
  EXPECT_EQ(m->dl_tensor.device.device_type, dl::kCPU);
  EXPECT_EQ(m->dl_tensor.strides[0], 1);
  EXPECT_EQ(m->dl_tensor.strides[1], 3);
  Array back = from_dlpack(m);
  EXPECT_FALSE(back.on_device());
  EXPECT_EQ(back.data(), t.data());
  EXPECT_EQ(back.copy().to_double_vector(), t.copy().to_double_vector());
  EXPECT_EQ(back.dtype(), DType::Float32);
}

namespace {

// A producer's tensor over `data` (host memory) that counts its deleter's calls.
struct Produced {
  DLManagedTensor managed{};
  std::vector<int64_t> shape, strides;
  int* deleted;
};

DLManagedTensor* produce(void* data, DLDevice device, DLDataType dtype, std::vector<int64_t> shape,
                         std::vector<int64_t> strides, uint64_t byte_offset, int* deleted) {
  auto* p = new Produced{};
  p->shape = std::move(shape);
  p->strides = std::move(strides);
  p->deleted = deleted;
  p->managed.dl_tensor =
      DLTensor{data,       device,          int32_t(p->shape.size()),
               dtype,      p->shape.data(), p->strides.empty() ? nullptr : p->strides.data(),
               byte_offset};
  p->managed.manager_ctx = p;
  p->managed.deleter = [](DLManagedTensor* self) {
    auto* q = static_cast<Produced*>(self->manager_ctx);
    ++*q->deleted;
    delete q;
  };
  return &p->managed;
}

constexpr DLDataType kF32{2, 32, 1};

// Forces the emulator on (even where a GPU exists: these tests hand it host
// memory as "device" memory) and restores the process-wide switch after.
class DLPackCuda : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = cuda::emulation();
    cuda::set_emulation(true);
  }
  void TearDown() override { cuda::set_emulation(saved_); }
  bool saved_ = false;
};

}  // namespace

TEST(DLPack, RejectsOtherDevicesByNameAndReleases) {
  int deleted = 0;
  float data[2] = {1, 2};
  for (int32_t type : {4, 10, 99}) {
    DLManagedTensor* m = produce(data, {type, 0}, kF32, {2}, {}, 0, &deleted);
    try {
      from_dlpack(m);
      ADD_FAILURE() << "device type " << type << " was accepted";
    } catch (const std::invalid_argument& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(dlpack_device_name(type)), std::string::npos) << msg;
      EXPECT_NE(msg.find("device type " + std::to_string(type)), std::string::npos) << msg;
    }
  }
  EXPECT_EQ(dlpack_device_name(10), "ROCm");
  EXPECT_EQ(deleted, 3);
}

TEST(DLPack, PinnedAndManagedCudaMemoryAreHostArrays) {
  int deleted = 0;
  float data[3] = {1, 2, 3};
  for (int32_t type : {dl::kCUDAHost, dl::kCUDAManaged}) {
    Array a = from_dlpack(produce(data, {type, 0}, kF32, {3}, {}, 0, &deleted));
    EXPECT_FALSE(a.on_device());
    EXPECT_EQ(a.data(), data);
    EXPECT_EQ(a.to_double_vector(), (std::vector<double>{1, 2, 3}));
  }
  EXPECT_EQ(deleted, 2);
}

TEST_F(DLPackCuda, CudaTensorBecomesADeviceArrayWithoutCopy) {
  int deleted = 0;
  std::vector<float> data(20);
  for (size_t i = 0; i < data.size(); ++i) data[i] = float(i);
  {
    // A 2x3 view at element 2 with element strides (6, 2), over "device" memory.
    Array a = from_dlpack(
        produce(data.data(), {dl::kCUDA, 0}, kF32, {2, 3}, {6, 2}, 2 * sizeof(float), &deleted));
    EXPECT_TRUE(a.on_device());
    EXPECT_EQ(a.device(), 0);
    EXPECT_EQ(a.shape(), (Shape{2, 3}));
    EXPECT_EQ(a.strides(), (Strides{24, 8}));
    EXPECT_EQ(a.data(), data.data() + 2);
    EXPECT_THROW(a.to_double_vector(),
                 std::logic_error);  // device memory, not readable from the host
    Array row = a.index(0, 1);       // a metadata view keeps the tensor alive
    {
      Array c = from_dlpack(produce(data.data(), {dl::kCUDA, 0}, kF32, {4}, {}, 0, &deleted));
      EXPECT_EQ(cuda::to_host(c).to_double_vector(), (std::vector<double>{0, 1, 2, 3}));
    }
    EXPECT_EQ(deleted, 1);  // c is gone
    a = Array();
    EXPECT_EQ(deleted, 1);  // row still holds a's tensor
    EXPECT_TRUE(row.on_device());
    row = Array();
  }
  EXPECT_EQ(deleted, 2);
}

TEST_F(DLPackCuda, StridedCudaTensorDownloads) {
  if (cuda::detail::host_compiler().empty())
    GTEST_SKIP() << "no C++ compiler for the CUDA emulator";
  int deleted = 0;
  std::vector<float> data(20);
  for (size_t i = 0; i < data.size(); ++i) data[i] = float(i);
  Array a = from_dlpack(
      produce(data.data(), {dl::kCUDA, 0}, kF32, {2, 3}, {6, 2}, 2 * sizeof(float), &deleted));
  EXPECT_EQ(cuda::to_host(a).to_double_vector(), (std::vector<double>{2, 4, 6, 8, 10, 12}));
  EXPECT_EQ(cuda::to_host(a.transpose()).to_double_vector(),
            (std::vector<double>{2, 8, 4, 10, 6, 12}));
  a = Array();
  EXPECT_EQ(deleted, 1);
}

TEST_F(DLPackCuda, EmptyAndZeroDimCudaTensors) {
  int deleted = 0;
  float x = 7;
  Array e = from_dlpack(produce(&x, {dl::kCUDA, 0}, kF32, {0, 3}, {}, 0, &deleted));
  EXPECT_TRUE(e.on_device());
  EXPECT_EQ(e.size(), 0);
  EXPECT_EQ(cuda::to_host(e).shape(), (Shape{0, 3}));
  Array s = from_dlpack(produce(&x, {dl::kCUDA, 0}, kF32, {}, {}, 0, &deleted));
  EXPECT_TRUE(s.on_device());
  EXPECT_EQ(cuda::to_host(s).to_double_vector(), (std::vector<double>{7}));
  e = s = Array();
  EXPECT_EQ(deleted, 2);
}

TEST_F(DLPackCuda, UnusableDeviceIndexIsNamedAndReleased) {
  int deleted = 0;
  float data[2] = {1, 2};
  for (int32_t id : {1, 3, -1}) {
    try {
      from_dlpack(produce(data, {dl::kCUDA, id}, kF32, {2}, {}, 0, &deleted));
      ADD_FAILURE() << "cuda:" << id << " was accepted under the emulator";
    } catch (const DeviceUnavailable& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("from_dlpack"), std::string::npos) << msg;
      EXPECT_NE(msg.find("cuda:" + std::to_string(id)), std::string::npos) << msg;
    }
  }
  EXPECT_EQ(deleted, 3);
}

TEST(DLPack, CudaTensorWithoutAUsableDeviceIsRefused) {
  // Without the emulator the CUDA runtime must have the device: cuda:1000 is
  // never there (and without a GPU, no index is).
  const bool saved = cuda::emulation();
  cuda::set_emulation(false);
  int deleted = 0;
  float data[2] = {1, 2};
  try {
    from_dlpack(produce(data, {dl::kCUDA, 1000}, kF32, {2}, {}, 0, &deleted));
    ADD_FAILURE() << "cuda:1000 was accepted";
  } catch (const DeviceUnavailable& e) {
    EXPECT_NE(std::string(e.what()).find("1000"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected DeviceUnavailable, got: " << e.what();
  }
  cuda::set_emulation(saved);
  EXPECT_EQ(deleted, 1);
}

TEST_F(DLPackCuda, ExportOfEmulatorArraysIsRefused) {
  Array d = cuda::to_device(Array::from_vector<float>({1, 2, 3}, {3}), cuda::device_runtime(0));
  try {
    to_dlpack(d);
    ADD_FAILURE() << "an emulator array was exported";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("lives on the CUDA emulator, whose memory is host memory; other libraries "
                       "would read it "
                       "as GPU memory"),
              std::string::npos)
        << msg;
  }
  // Imported "device" tensors too; the refusal leaks nothing.
  int deleted = 0;
  float data[2] = {1, 2};
  {
    Array a = from_dlpack(produce(data, {dl::kCUDA, 0}, kF32, {2}, {}, 0, &deleted));
    EXPECT_THROW(to_dlpack(a), std::invalid_argument);
  }
  EXPECT_EQ(deleted, 1);
  // Host arrays still export while the emulator is on.
  DLManagedTensor* m = to_dlpack(cuda::to_host(d));
  EXPECT_EQ(m->dl_tensor.device.device_type, dl::kCPU);
  m->deleter(m);
}
