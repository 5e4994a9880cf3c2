// Result<T>: either a value or an Error, for every fallible call in s3mount; Status is
// Result<void>. [[nodiscard]] so an ignored error is a compile error under -Werror.
//
// Thread-safety: plain value types.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "s3mount/common/error.h"

namespace s3mount {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(state_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(state_));
  }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT implicit

  static Result Ok() { return {}; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const& {
    assert(!ok_);
    return error_;
  }
  Error&& error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status OkStatus() { return Status::Ok(); }

}  // namespace s3mount

// Returns the error of `expr` (a Result or Status) from the enclosing function.
#define S3M_RETURN_IF_ERROR(expr)              \
  do {                                         \
    auto&& s3m_status_ = (expr); /* no copy */ \
    if (!s3m_status_.ok()) {                   \
      return std::move(s3m_status_).error();   \
    }                                          \
  } while (false)
