// Device selection: parsing "cpu" / "cuda" / "cuda:N", config.device and
// THEON_FLAGS, function(..., device=...), and the errors a machine without a
// usable GPU gives (no GPU is needed: these run everywhere).
#include <gtest/gtest.h>
#include <theon/theon.h>

#include "theon/backend/cuda.h"
#include "theon/backend/cuda_device.h"
#include "theon/backend/device.h"

namespace theon {
namespace {

// Restores config().device when a test ends.
struct DeviceGuard {
  std::string saved = config().device;
  ~DeviceGuard() { config().device = saved; }
};

TEST(DeviceParse, AcceptsCpuCudaAndCudaN) {
  EXPECT_EQ(parse_device("cpu"), Device{});
  EXPECT_EQ(parse_device("cuda"), (Device{Device::Kind::CUDA, 0}));
  EXPECT_EQ(parse_device("cuda:0"), (Device{Device::Kind::CUDA, 0}));
  EXPECT_EQ(parse_device("cuda:12"), (Device{Device::Kind::CUDA, 12}));
  EXPECT_EQ(parse_device("gpu1"), (Device{Device::Kind::CUDA, 1}));  // Theano's old spelling
  EXPECT_EQ(parse_device("cuda").str(), "cuda:0");
  EXPECT_EQ(parse_device("cpu").str(), "cpu");
}

TEST(DeviceParse, MalformedNamesAreRejectedQuotingTheString) {
  for (const char* bad : {"", "CUDA", "cuda:", "cuda:-1", "cuda:x", "cuda:1x", "cuda:0:1", "tpu",
                          " cpu", "gpu:1", "cuda:99999999999"}) {
    try {
      parse_device(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("'" + std::string(bad) + "'"), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find("cuda:N"), std::string::npos) << e.what();
    }
  }
}

TEST(DeviceConfig, ConfigDeviceTakesCudaAndRejectsGarbage) {
  DeviceGuard g;
  config().set("device", "cuda:1");
  EXPECT_EQ(config().get("device"), "cuda:1");
  try {
    config().set("device", "cuda:one");
    FAIL() << "accepted cuda:one";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("config.device"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'cuda:one'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(config().get("device"), "cuda:1");                  // a failed set changes nothing
  parse_flags("device=cuda,floatX=" + config().get("floatX"));  // the THEON_FLAGS syntax
  EXPECT_EQ(config().device, "cuda");
  parse_flags("device=cpu");
  EXPECT_EQ(config().device, "cpu");
}

TEST(DeviceAvailability, ReportsAReasonWhenNoDeviceCanBeUsed) {
  const int n = cuda::device_count();
  EXPECT_GE(n, 0);
  EXPECT_EQ(cuda::is_available(), n > 0);
  EXPECT_EQ(cuda::unavailable_reason().empty(), n > 0);
  if (!cuda::built_with_cuda()) {
    EXPECT_EQ(n, 0);
    EXPECT_NE(cuda::unavailable_reason().find("built without CUDA"), std::string::npos);
  }
  if (n == 0) {
    EXPECT_THROW(cuda::device_name(0), std::runtime_error);
    EXPECT_THROW(cuda::compute_capability(0), std::runtime_error);
  } else {
    EXPECT_FALSE(cuda::device_name(0).empty());
    EXPECT_GE(cuda::compute_capability(0), 30);
    EXPECT_THROW(cuda::device_name(n), std::out_of_range);
  }
}

// The error of compiling `device`'s function, "" when it compiles.
std::string compile_error(const std::string& device) {
  Var x = vector(DType::Float32, "x");
  FunctionOptions o;
  o.device = device;
  try {
    function({x}, {exp(x) + 1.0}, o);
  } catch (const DeviceUnavailable& e) {
    return std::string("DeviceUnavailable: ") + e.what();
  } catch (const std::invalid_argument& e) {
    return std::string("invalid_argument: ") + e.what();
  }
  return "";
}

TEST(DeviceFunction, CudaWithoutAUsableGpuRaisesNamingTheProblem) {
  if (cuda::is_available()) GTEST_SKIP() << "a CUDA device is available: " << cuda::device_name(0);
  if (cuda::emulation()) GTEST_SKIP() << "cuda:0 runs on the emulator (THEON_CUDA_EMULATOR)";
  const std::string why = cuda::unavailable_reason();
  for (const char* dev : {"cuda", "cuda:0", "cuda:3"}) {
    const std::string err = compile_error(dev);
    EXPECT_EQ(err.rfind("DeviceUnavailable: [function] device 'cuda:", 0), 0u) << err;
    EXPECT_NE(err.find(why), std::string::npos) << err;
  }
}

TEST(DeviceFunction, CudaDeviceBeyondTheLastGpuRaises) {
  if (!cuda::is_available() || cuda::emulation()) GTEST_SKIP() << "no CUDA device: " << cuda::unavailable_reason();
  const std::string beyond = compile_error("cuda:" + std::to_string(cuda::device_count()));
  EXPECT_NE(beyond.find("does not exist"), std::string::npos) << beyond;
}

TEST(DeviceFunction, MalformedDeviceIsABadArgument) {
  const std::string err = compile_error("cuda:zero");
  EXPECT_EQ(err.rfind("invalid_argument: [function] device: ", 0), 0u) << err;
  EXPECT_NE(err.find("'cuda:zero'"), std::string::npos) << err;
}

TEST(DeviceFunction, ConfigDeviceIsTheDefaultAndAnExplicitCpuOverridesIt) {
  DeviceGuard g;
  config().device = "cpu";
  EXPECT_EQ(compile_error(""), "");
  config().device = "cuda";
  if (!cuda::is_available() && !cuda::emulation()) {
    EXPECT_EQ(compile_error("").rfind("DeviceUnavailable: [function] device 'cuda:0'", 0), 0u);
  }
  EXPECT_EQ(compile_error("cpu"), "");  // per-function device wins over config.device
  Var x = vector(DType::Float64, "x");
  FunctionOptions o;
  o.device = "cpu";
  auto f = function({x}, {x * 2.0}, o);
  Array r = (*f)({Array::from_vector<double>({1.5, -2})})[0];
  EXPECT_EQ(r.data_as<double>()[0], 3.0);
  EXPECT_EQ(r.data_as<double>()[1], -4.0);
}

// Ops that compile an inner graph when they first run (OpFromGraph,
// map_range) run it where they run, not on config.device.
TEST(DeviceFunction, InnerGraphsOfACpuFunctionStayOnTheCpu) {
  DeviceGuard g;
  Var a = vector(DType::Float64, "a");
  auto ofg =
      std::make_shared<OpFromGraph>(std::vector<Var>{a}, std::vector<Var>{a * 3.0}, "triple");
  Var x = vector(DType::Float64, "x");
  Var n = scalar(DType::Int64, "n");
  Var y = apply1(ofg, {x});
  Var m = map_range(n, [](const Var& i) { return cast(i, DType::Float64) * 2.0; });
  FunctionOptions o;
  o.device = "cpu";
  config().device = "cuda";
  auto f = function({x, n}, {y, m}, o);
  auto r = (*f)({Array::from_vector<double>({1, 2}), Array::scalar(DType::Int64, 3)});
  EXPECT_EQ(r[0].to_double_vector(), (std::vector<double>{3, 6}));
  EXPECT_EQ(r[1].to_double_vector(), (std::vector<double>{0, 2, 4}));
}

}  // namespace
}  // namespace theon
