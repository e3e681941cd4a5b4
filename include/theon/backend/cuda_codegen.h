// theon/backend/cuda_codegen.h — fused elementwise kernels as CUDA C, compiled by NVRTC.
//
// A Composite (ops/composite.h) carries a scalar program; fused_kernel_source
// turns it into CUDA C: one thread per output element (grid-stride), every
// instruction computed as the CPU computes it (operands converted to the
// kernel dtype, float16/bfloat16 computed in float32 and rounded once per
// instruction; see the prelude in src/backend/cuda/codegen_prelude.cpp).
// Two kernels per program: `<name>_contig` for operands that are all
// C-contiguous with the output's shape, and `<name>_strided` for any byte
// strides over up to kMaxDims dims (stride 0 broadcasts an input).
//
// Both take one parameter, an array of 64-bit words (FusedArgs below).
// Generating the source needs no CUDA; compiling it (compile_kernel) needs
// NVRTC, not a GPU, so the kernels of every op and dtype are checked on
// machines without one. Compiled images are cached in memory and on disk,
// keyed by a hash of the source, the target architecture and NVRTC's version.
// Compiled as host C++ with THEON_HOST_EMULATION defined (and definitions of
// the few CUDA built-ins it uses), the same text runs on the CPU: the tests
// check the generator's semantics that way on machines without a GPU.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "theon/ops/composite.h"

namespace theon::cuda {

inline constexpr int kMaxDims = 8;
inline constexpr int kMaxOperands = 48;  // inputs + outputs of one fused kernel

// Codes a kernel writes to its error flag (the first error wins).
// index_out_of_bounds: an index array read on the device (advanced indexing)
// holds an index outside [-n, n) of the axis it indexes.
enum class KernelError : int { none = 0, negative_int_power = 1, index_out_of_bounds = 2 };
// The message of a kernel error code, as the CPU raises it.
std::string kernel_error_message(int code);
// Throws what the CPU throws for a kernel error code (non-zero):
// std::out_of_range (Python IndexError) for index_out_of_bounds, else
// std::invalid_argument; `suffix` is appended to the message.
[[noreturn]] void throw_kernel_error(int code, const std::string& suffix = "");

struct FusedKernelSource {
  std::string source;  // complete CUDA C (the prelude included)
  std::string name;    // kernels are extern "C" name + "_contig" and name + "_strided"
  int num_inputs = 0, num_outputs = 0;
};

// The CUDA C of a composite's program, its kernels named `name`_contig and
// `name`_strided. Throws std::invalid_argument naming Composite when it has
// more than kMaxOperands operands.
FusedKernelSource fused_kernel_source(const Composite& composite,
                                      const std::string& name = "theon_fused");

// The kernels' parameter as 64-bit words, operands numbered inputs first:
//   [0] n (elements of the output)      [1] ndim (<= kMaxDims)
//   [2 .. 2+kMaxDims) shape              [2+kMaxDims] error flag (int*, may be 0)
//   then one data pointer per operand, then per operand kMaxDims byte strides.
// Dims beyond ndim are ignored; the contiguous kernel reads only n, the
// error flag and the pointers.
struct FusedArgs {
  std::vector<int64_t> words;
  static size_t size_words(int num_operands) {
    return size_t(3 + kMaxDims + num_operands * (1 + kMaxDims));
  }
};
// Packs the arguments: `shape` of the output, `ptrs` and `strides` (bytes,
// one vector of shape.size() per operand; 0 for a broadcast dim).
FusedArgs pack_fused_args(const std::vector<int64_t>& shape, const std::vector<void*>& ptrs,
                          const std::vector<std::vector<int64_t>>& strides, int* error_flag);

// The CUDA C preamble shared by all fused kernels (types, conversions, ops).
const char* fused_prelude();

// ---- NVRTC compilation and the kernel cache --------------------------------

struct CompiledKernel {
  std::string image;  // CUBIN (for "sm_XX") or PTX (for "compute_XX")
  std::string arch;   // what it was compiled for
  std::string log;    // NVRTC's log (warnings)
};

// Compiles CUDA C for `arch` ("sm_90", "sm_80", "compute_90", ...) with
// NVRTC, through the memory and disk caches. Throws std::runtime_error with
// NVRTC's log when the source does not compile, and "theon was built without
// CUDA" in a build without the CUDA backend. Thread- and process-safe.
std::shared_ptr<const CompiledKernel> compile_kernel(const std::string& source,
                                                     const std::string& arch);
// NVRTC's version ("13.0"); throws without CUDA.
std::string nvrtc_version();
// The architectures NVRTC can compile for ("sm_75", ..., "sm_120").
std::vector<std::string> nvrtc_architectures();

struct KernelCacheStats {
  uint64_t nvrtc_compiles = 0;  // sources NVRTC actually compiled
  uint64_t memory_hits = 0;
  uint64_t disk_hits = 0;
  uint64_t disk_rejected = 0;  // cache files found unreadable or corrupt (recompiled and rewritten)
};
KernelCacheStats kernel_cache_stats();
// Drops the in-memory cache (the disk cache stays); for tests and long runs.
void clear_kernel_memory_cache();
// Where compiled kernels are kept: set_kernel_cache_dir's directory if set,
// else $THEON_CACHE_DIR/cuda, else $XDG_CACHE_HOME/theon/cuda, else
// ~/.cache/theon/cuda. Setting "" returns to the default;
// set_kernel_disk_cache(false) turns the disk cache off (memory cache only).
void set_kernel_cache_dir(const std::string& dir);
std::string kernel_cache_dir();
void set_kernel_disk_cache(bool enabled);
// The file a source compiled for arch is cached in (whether or not it exists).
std::string kernel_cache_path(const std::string& source, const std::string& arch);

// ---- running fused kernels (needs a GPU) ----------------------------------

// Loads `kernel` (name + "_contig" / "_strided") of a compiled image on
// `device` (once per image and device) and launches it over args.words[0]
// elements on the device's stream (cuda_memory.h), without waiting.
void launch_fused(const CompiledKernel& image, const std::string& kernel, const FusedArgs& args,
                  int device);

// Runs a composite on `device`: uploads the inputs, compiles the program
// for the device's architecture (through the caches), launches the
// contiguous kernel when every input has the output's shape and the strided
// one otherwise, raises a kernel's error as the CPU would, and downloads the
// outputs. Every output must have the broadcast shape of all inputs.
std::vector<Array> run_composite(const Composite& composite, const std::vector<Array>& inputs,
                                 int device);

}  // namespace theon::cuda
