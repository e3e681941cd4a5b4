// theon/runtime/array.h — n-dimensional arrays over shared buffers.
//
// An Array is a dtype, a shape, byte strides and a byte offset into a Buffer
// that may be shared with other arrays (views) or owned by a foreign object
// (a NumPy array, a DLPack tensor), which the Buffer keeps alive. Views —
// slicing, transpose, broadcast, reshape of contiguous data — never copy.
// Strides are in bytes, as in NumPy, so any NumPy array can be wrapped.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "theon/runtime/dtype.h"

namespace theon {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;  // in bytes

// A block of memory. `owner` keeps foreign memory alive (or frees our own).
struct Buffer {
  void* data = nullptr;
  size_t nbytes = 0;
  std::shared_ptr<void> owner;
  // Where the memory is: -1 for host memory, N for the memory of CUDA device
  // N (backend/cuda_device.h). Views of device memory are made as of host
  // memory; reading or writing elements from the host (copy, assign, astype,
  // item_*, to_*_vector) throws std::logic_error naming the device.
  int device = -1;
  // Allocates `nbytes` bytes, 64-byte aligned; throws std::bad_alloc with the size on failure.
  static std::shared_ptr<Buffer> allocate(size_t nbytes);
  // Wraps foreign memory; `owner` is released when the last view is gone.
  static std::shared_ptr<Buffer> wrap(void* data, size_t nbytes, std::shared_ptr<void> owner);
};

std::string shape_str(const Shape& s);
int64_t shape_size(const Shape& s);
Strides c_strides(const Shape& shape, size_t itemsize);
// NumPy broadcasting of two shapes; throws naming both shapes when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b);
// Normalises a possibly negative axis against ndim; throws "axis A is out of bounds for ndim N".
int normalize_axis(int64_t axis, int ndim, const char* who = nullptr);

class Array {
 public:
  Array() = default;
  Array(DType dtype, Shape shape, Strides strides, int64_t offset, std::shared_ptr<Buffer> buf);

  // New C-contiguous array with uninitialised / zeroed contents.
  static Array empty(DType dtype, const Shape& shape);
  static Array zeros(DType dtype, const Shape& shape);
  static Array full(DType dtype, const Shape& shape, double value);
  // 0-d array holding `value` converted to dtype.
  static Array scalar(DType dtype, double value);
  template <class T>
  static Array from_vector(const std::vector<T>& v, Shape shape = {});

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  int ndim() const { return int(shape_.size()); }
  int64_t size() const { return shape_size(shape_); }
  size_t itemsize() const { return theon::itemsize(dtype_); }
  size_t nbytes() const { return size_t(size()) * itemsize(); }
  bool defined() const { return buf_ != nullptr; }
  // -1 for host memory, N for CUDA device N (see Buffer::device).
  int device() const { return buf_ ? buf_->device : -1; }
  bool on_device() const { return device() >= 0; }
  const std::shared_ptr<Buffer>& buffer() const { return buf_; }

  void* data() const { return static_cast<char*>(buf_->data) + offset_; }
  template <class T>
  T* data_as() const {
    return static_cast<T*>(data());
  }
  bool is_c_contiguous() const;
  bool is_f_contiguous() const;
  // True when the two arrays may share memory.
  bool shares_memory_with(const Array& other) const;

  // ---- views (no copy) ----
  Array transpose(const std::vector<int>& perm) const;
  Array transpose() const;  // reverse axes
  Array broadcast_to(const Shape& shape) const;
  // Python slice semantics for one axis (start/stop already clamped by normalize_slice).
  Array slice(int axis, int64_t start, int64_t stop, int64_t step) const;
  Array index(int axis, int64_t i) const;  // drops the axis
  Array expand_dims(int axis) const;
  Array squeeze_axis(int axis) const;
  // View when the layout allows, otherwise a copy (like numpy.reshape). One dim may be -1.
  Array reshape(Shape shape) const;

  // ---- copies ----
  Array copy() const;  // C-contiguous copy
  Array astype(DType dtype) const;  // always a new array
  // `*this` when already of dtype and C-contiguous, else a contiguous copy of dtype.
  Array contiguous(DType dtype) const;
  Array contiguous() const { return contiguous(dtype_); }
  // Copies src (broadcast to this shape, cast to this dtype) into this array.
  void assign(const Array& src) const;

  // Element access for tests and small scalars.
  double item_double(int64_t flat_index = 0) const;
  int64_t item_int(int64_t flat_index = 0) const;
  std::vector<double> to_double_vector() const;
  std::vector<int64_t> to_int_vector() const;
  std::string to_string() const;

 private:
  // Throws std::logic_error when the elements live on a device.
  void require_host(const char* who) const;
  DType dtype_ = DType::Float64;
  Shape shape_;
  Strides strides_;
  int64_t offset_ = 0;
  std::shared_ptr<Buffer> buf_;
};

// Python slice normalisation: fills start/stop for the given step and length
// (like PySlice_AdjustIndices); returns the resulting length.
int64_t normalize_slice(int64_t length, int64_t* start, int64_t* stop, int64_t step, bool has_start,
                        bool has_stop);

template <class T>
Array Array::from_vector(const std::vector<T>& v, Shape shape) {
  if (shape.empty() && v.size() != 1) shape = {int64_t(v.size())};
  Array a = empty(dtype_v<T>, shape);
  if (size_t(a.size()) != v.size())
    throw std::invalid_argument("Array::from_vector: " + std::to_string(v.size()) +
                                " values do not fill shape " + shape_str(shape));
  T* p = a.data_as<T>();
  for (size_t i = 0; i < v.size(); ++i) p[i] = v[i];
  return a;
}

}  // namespace theon
