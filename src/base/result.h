// base/result.h: the error type every module returns for expected failures.
//
// Result<T> = tl::expected<T, Error>. An Error carries a coarse code (what the caller may
// act on) and a message for the log. Protocol code maps codes to wire replies in one place
// per protocol; the message is never shown to a peer. Thread-safe as values.
#pragma once

#include <string>
#include <utility>

#include <fmt/format.h>
#include <tl/expected.hpp>

namespace tern {

enum class ErrorCode {
  kInternal,      // a bug or an unexpected state
  kIo,            // disk, socket or database I/O failed
  kCorruption,    // stored data is not what we wrote (kept apart from I/O failure)
  kNotFound,      // the named thing does not exist
  kExists,        // the thing to create exists already
  kInvalid,       // the argument is malformed or out of range
  kDenied,        // not allowed (authentication, authorization, policy)
  kBusy,          // locked by someone else; try later
  kLimit,         // a configured limit (size, quota, count) is exceeded
  kUnavailable,   // a dependency (database, DNS) cannot be reached now
};

std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  Error() = default;
  Error(ErrorCode c, std::string m) : code(c), message(std::move(m)) {}
  std::string to_string() const;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> make_error(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

template <typename... Args>
tl::unexpected<Error> make_error(ErrorCode code, fmt::format_string<Args...> f, Args&&... args) {
  return tl::unexpected<Error>(Error{code, fmt::format(f, std::forward<Args>(args)...)});
}

inline Status ok() { return {}; }

}  // namespace tern
