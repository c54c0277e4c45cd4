// Zeroizing containers for key material.
//
// SecretBytes is a byte vector whose storage is wiped (with a wipe the
// compiler may not elide) whenever it is released: on destruction, on growth
// and on clear(). SecretArray<N> is the fixed-size variant, wiped in its
// destructor. Neither has operator== (compare secrets with
// crypto::ConstantTimeEquals) nor a stream operator, so a secret cannot be
// printed or compared in variable time by accident.
//
// Thread-compatible.
#ifndef PERIMETER_BASE_SECRET_BYTES_H_
#define PERIMETER_BASE_SECRET_BYTES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "perimeter/base/bytes.h"

namespace perimeter {

// Wipes `n` bytes at `p` in a way the optimizer keeps.
void SecureWipe(void* p, std::size_t n);

// An allocator that wipes memory before handing it back.
template <typename T>
struct CleansingAllocator {
  using value_type = T;
  CleansingAllocator() noexcept = default;
  template <typename U>
  CleansingAllocator(const CleansingAllocator<U>&) noexcept {}  // NOLINT
  T* allocate(std::size_t n) { return std::allocator<T>().allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    SecureWipe(p, n * sizeof(T));
    std::allocator<T>().deallocate(p, n);
  }
  template <typename U>
  bool operator==(const CleansingAllocator<U>&) const noexcept { return true; }
};

// A variable-length secret. Intentionally copyable (a copy is a second
// secret, wiped independently).
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size) : data_(size, 0) {}
  explicit SecretBytes(ByteView bytes) : data_(bytes.begin(), bytes.end()) {}
  ~SecretBytes() { clear(); }
  SecretBytes(const SecretBytes&) = default;
  SecretBytes& operator=(const SecretBytes&) = default;
  SecretBytes(SecretBytes&& o) noexcept : data_(std::move(o.data_)) { o.data_.clear(); }
  SecretBytes& operator=(SecretBytes&& o) noexcept {
    if (this != &o) {
      clear();
      data_ = std::move(o.data_);
      o.data_.clear();
    }
    return *this;
  }

  std::size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  std::uint8_t* data() { return data_.data(); }
  const std::uint8_t* data() const { return data_.data(); }
  // A view of the secret bytes; valid until this object is modified.
  ByteView view() const { return ByteView(data_.data(), data_.size()); }
  MutableByteView mutable_view() { return MutableByteView(data_.data(), data_.size()); }
  // Wipes the contents and sets size to 0 (keeps no capacity).
  void clear() {
    SecureWipe(data_.data(), data_.size());
    data_.clear();
    data_.shrink_to_fit();
  }
  void resize(std::size_t n) { data_.resize(n, 0); }

 private:
  std::vector<std::uint8_t, CleansingAllocator<std::uint8_t>> data_;
};

// A fixed-size secret, wiped on destruction. Intentionally copyable.
template <std::size_t N>
class SecretArray {
 public:
  SecretArray() { data_.fill(0); }
  explicit SecretArray(ByteView bytes) {  // REQUIRES: bytes.size() == N
    data_.fill(0);
    for (std::size_t i = 0; i < N && i < bytes.size(); ++i) data_[i] = bytes[i];
  }
  ~SecretArray() { SecureWipe(data_.data(), N); }
  SecretArray(const SecretArray&) = default;
  SecretArray& operator=(const SecretArray&) = default;

  static constexpr std::size_t size() { return N; }
  std::uint8_t* data() { return data_.data(); }
  const std::uint8_t* data() const { return data_.data(); }
  ByteView view() const { return ByteView(data_.data(), N); }
  MutableByteView mutable_view() { return MutableByteView(data_.data(), N); }

 private:
  std::array<std::uint8_t, N> data_;
};

}  // namespace perimeter

#endif  // PERIMETER_BASE_SECRET_BYTES_H_
