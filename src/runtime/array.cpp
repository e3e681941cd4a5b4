#include "theon/runtime/array.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "theon/runtime/allocator.h"
#include "theon/runtime/strided.h"

namespace theon {

std::shared_ptr<Buffer> Buffer::allocate(size_t nbytes) {
  void* p = detail::host_alloc(nbytes);
  auto b = std::make_shared<Buffer>();
  b->data = p;
  b->nbytes = nbytes;
  b->owner = std::shared_ptr<void>(p, [nbytes](void* q) { detail::host_free(q, nbytes); });
  return b;
}

std::shared_ptr<Buffer> Buffer::wrap(void* data, size_t nbytes, std::shared_ptr<void> owner) {
  auto b = std::make_shared<Buffer>();
  b->data = data;
  b->nbytes = nbytes;
  b->owner = std::move(owner);
  return b;
}

std::string shape_str(const Shape& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += ", ";
    r += std::to_string(s[i]);
  }
  if (s.size() == 1) r += ",";
  return r + ")";
}

int64_t shape_size(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

Strides c_strides(const Shape& shape, size_t isz) {
  Strides st(shape.size());
  int64_t acc = int64_t(isz);
  for (int i = int(shape.size()) - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= std::max<int64_t>(shape[i], 1);
  }
  return st;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape r(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw std::invalid_argument("shapes " + shape_str(a) + " and " + shape_str(b) +
                                  " cannot be broadcast together");
    r[i] = da == 1 ? db : da;
  }
  return r;
}

int normalize_axis(int64_t axis, int ndim, const char* who) {
  if (axis < -ndim || axis >= ndim)
    throw std::invalid_argument(std::string(who ? who : "") + (who ? ": " : "") + "axis " +
                                std::to_string(axis) + " is out of bounds for array of dimension " +
                                std::to_string(ndim));
  return int(axis < 0 ? axis + ndim : axis);
}

int64_t normalize_slice(int64_t length, int64_t* start, int64_t* stop, int64_t step, bool has_start,
                        bool has_stop) {
  if (step == 0) throw std::invalid_argument("slice step cannot be zero");
  if (!has_start) *start = step < 0 ? length - 1 : 0;
  else {
    if (*start < 0) *start += length;
    if (*start < 0) *start = step < 0 ? -1 : 0;
    else if (*start >= length) *start = step < 0 ? length - 1 : length;
  }
  if (!has_stop) *stop = step < 0 ? -1 : length;
  else {
    if (*stop < 0) *stop += length;
    if (*stop < 0) *stop = step < 0 ? -1 : 0;
    else if (*stop >= length) *stop = step < 0 ? length - 1 : length;
  }
  if (step < 0) return *stop < *start ? (*start - *stop - 1) / (-step) + 1 : 0;
  return *start < *stop ? (*stop - *start - 1) / step + 1 : 0;
}

Array::Array(DType dtype, Shape shape, Strides strides, int64_t offset, std::shared_ptr<Buffer> buf)
    : dtype_(dtype), shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset),
      buf_(std::move(buf)) {}

Array Array::empty(DType dtype, const Shape& shape) {
  for (auto d : shape)
    if (d < 0) throw std::invalid_argument("negative dimensions are not allowed: " + shape_str(shape));
  size_t n = size_t(shape_size(shape)) * theon::itemsize(dtype);
  return Array(dtype, shape, c_strides(shape, theon::itemsize(dtype)), 0, Buffer::allocate(n));
}

Array Array::zeros(DType dtype, const Shape& shape) {
  Array a = empty(dtype, shape);
  std::memset(a.data(), 0, a.nbytes());
  return a;
}

Array Array::full(DType dtype, const Shape& shape, double value) {
  Array a = empty(dtype, shape);
  visit_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    T v = convert<T>(value);
    std::fill_n(a.data_as<T>(), a.size(), v);
  });
  return a;
}

Array Array::scalar(DType dtype, double value) { return full(dtype, {}, value); }

bool Array::is_c_contiguous() const {
  int64_t acc = int64_t(itemsize());
  for (int i = ndim() - 1; i >= 0; --i) {
    if (shape_[i] == 0) return true;
    if (shape_[i] != 1 && strides_[i] != acc) return false;
    acc *= shape_[i];
  }
  return true;
}

bool Array::is_f_contiguous() const {
  int64_t acc = int64_t(itemsize());
  for (int i = 0; i < ndim(); ++i) {
    if (shape_[i] == 0) return true;
    if (shape_[i] != 1 && strides_[i] != acc) return false;
    acc *= shape_[i];
  }
  return true;
}

bool Array::shares_memory_with(const Array& o) const {
  if (!buf_ || !o.buf_) return false;
  if (buf_ == o.buf_ || buf_->data == o.buf_->data) return true;
  auto lo = [](const Array& a) { return static_cast<char*>(a.buf_->data); };
  return lo(*this) < lo(o) + o.buf_->nbytes && lo(o) < lo(*this) + buf_->nbytes;
}

Array Array::transpose(const std::vector<int>& perm) const {
  if (int(perm.size()) != ndim())
    throw std::invalid_argument("transpose: axes don't match array: got " +
                                std::to_string(perm.size()) + " axes for an array of dimension " +
                                std::to_string(ndim()));
  Shape s(ndim());
  Strides st(ndim());
  std::vector<bool> seen(ndim(), false);
  for (int i = 0; i < ndim(); ++i) {
    int p = normalize_axis(perm[i], ndim(), "transpose");
    if (seen[p]) throw std::invalid_argument("transpose: repeated axis in permutation");
    seen[p] = true;
    s[i] = shape_[p];
    st[i] = strides_[p];
  }
  return Array(dtype_, s, st, offset_, buf_);
}

Array Array::transpose() const {
  std::vector<int> perm(ndim());
  for (int i = 0; i < ndim(); ++i) perm[i] = ndim() - 1 - i;
  return transpose(perm);
}

Array Array::broadcast_to(const Shape& shape) const {
  if (shape.size() < shape_.size())
    throw std::invalid_argument("cannot broadcast shape " + shape_str(shape_) + " to " +
                                shape_str(shape));
  size_t lead = shape.size() - shape_.size();
  Strides st(shape.size(), 0);
  for (size_t i = 0; i < shape_.size(); ++i) {
    if (shape_[i] == shape[lead + i]) st[lead + i] = strides_[i];
    else if (shape_[i] != 1)
      throw std::invalid_argument("cannot broadcast shape " + shape_str(shape_) + " to " +
                                  shape_str(shape));
  }
  return Array(dtype_, shape, st, offset_, buf_);
}

Array Array::slice(int axis, int64_t start, int64_t stop, int64_t step) const {
  int64_t n = normalize_slice(shape_[axis], &start, &stop, step, true, true);
  Shape s = shape_;
  Strides st = strides_;
  s[axis] = n;
  st[axis] = strides_[axis] * step;
  int64_t off = offset_ + (n > 0 ? start * strides_[axis] : 0);
  return Array(dtype_, s, st, off, buf_);
}

Array Array::index(int axis, int64_t i) const {
  int64_t n = shape_[axis];
  if (i < -n || i >= n)
    throw std::out_of_range("index " + std::to_string(i) + " is out of bounds for axis " +
                            std::to_string(axis) + " with size " + std::to_string(n));
  if (i < 0) i += n;
  Shape s = shape_;
  Strides st = strides_;
  s.erase(s.begin() + axis);
  st.erase(st.begin() + axis);
  return Array(dtype_, s, st, offset_ + i * strides_[axis], buf_);
}

Array Array::expand_dims(int axis) const {
  Shape s = shape_;
  Strides st = strides_;
  s.insert(s.begin() + axis, 1);
  st.insert(st.begin() + axis, 0);
  return Array(dtype_, s, st, offset_, buf_);
}

Array Array::squeeze_axis(int axis) const {
  if (shape_[axis] != 1)
    throw std::invalid_argument("cannot squeeze axis " + std::to_string(axis) +
                                " of size " + std::to_string(shape_[axis]));
  Shape s = shape_;
  Strides st = strides_;
  s.erase(s.begin() + axis);
  st.erase(st.begin() + axis);
  return Array(dtype_, s, st, offset_, buf_);
}

Array Array::reshape(Shape shape) const {
  int neg = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (neg >= 0) throw std::invalid_argument("reshape: can only specify one unknown dimension");
      neg = int(i);
    } else if (shape[i] < 0) {
      throw std::invalid_argument("reshape: negative dimension " + std::to_string(shape[i]));
    } else {
      known *= shape[i];
    }
  }
  if (neg >= 0) {
    if (known == 0 || size() % known != 0)
      throw std::invalid_argument("cannot reshape array of size " + std::to_string(size()) +
                                  " into shape " + shape_str(shape));
    shape[neg] = size() / known;
  }
  if (shape_size(shape) != size())
    throw std::invalid_argument("cannot reshape array of size " + std::to_string(size()) +
                                " into shape " + shape_str(shape));
  if (is_c_contiguous())
    return Array(dtype_, shape, c_strides(shape, itemsize()), offset_, buf_);
  return copy().reshape(shape);
}

void Array::require_host(const char* who) const {
  if (on_device())
    throw std::logic_error(std::string("Array::") + who + ": the array lives on cuda:" +
                           std::to_string(device()) +
                           "; its elements cannot be read or written from the host (copy it to "
                           "the host first)");
}

void Array::assign(const Array& src) const {
  require_host("assign");
  src.require_host("assign");
  Array s = src.broadcast_to(shape_);
  visit_dtype(dtype_, [&](auto to) {
    using To = decltype(to);
    visit_dtype(s.dtype(), [&](auto from) {
      using From = decltype(from);
      for_each_strided<2>(shape_, {static_cast<char*>(data()), static_cast<char*>(s.data())},
                          {&strides_, &s.strides()}, [](auto p, auto st, int64_t n) {
                            for (int64_t i = 0; i < n; ++i)
                              *reinterpret_cast<To*>(p[0] + i * st[0]) =
                                  convert<To>(*reinterpret_cast<const From*>(p[1] + i * st[1]));
                          });
    });
  });
}

Array Array::copy() const {
  Array r = empty(dtype_, shape_);
  r.assign(*this);
  return r;
}

Array Array::astype(DType dtype) const {
  Array r = empty(dtype, shape_);
  r.assign(*this);
  return r;
}

Array Array::contiguous(DType dtype) const {
  if (dtype == dtype_ && is_c_contiguous()) return *this;
  return astype(dtype);
}

double Array::item_double(int64_t flat) const {
  require_host("item_double");
  Array c = contiguous();
  return visit_dtype(dtype_, [&](auto t) {
    using T = decltype(t);
    return convert<double>(c.data_as<T>()[flat]);
  });
}

int64_t Array::item_int(int64_t flat) const {
  require_host("item_int");
  Array c = contiguous();
  return visit_dtype(dtype_, [&](auto t) {
    using T = decltype(t);
    return convert<int64_t>(c.data_as<T>()[flat]);
  });
}

std::vector<double> Array::to_double_vector() const {
  require_host("to_double_vector");
  Array c = contiguous(DType::Float64);
  return std::vector<double>(c.data_as<double>(), c.data_as<double>() + c.size());
}

std::vector<int64_t> Array::to_int_vector() const {
  require_host("to_int_vector");
  Array c = contiguous(DType::Int64);
  return std::vector<int64_t>(c.data_as<int64_t>(), c.data_as<int64_t>() + c.size());
}

std::string Array::to_string() const {
  std::ostringstream os;
  os << "array(";
  auto v = to_double_vector();
  os << "[";
  for (size_t i = 0; i < v.size() && i < 20; ++i) os << (i ? ", " : "") << v[i];
  if (v.size() > 20) os << ", ...";
  os << "], shape=" << shape_str(shape_) << ", dtype=" << dtype_name(dtype_) << ")";
  return os.str();
}

}  // namespace theon
