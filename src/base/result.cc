#include "base/result.h"

namespace tern {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kCorruption: return "corruption";
    case ErrorCode::kNotFound: return "not-found";
    case ErrorCode::kExists: return "exists";
    case ErrorCode::kInvalid: return "invalid";
    case ErrorCode::kDenied: return "denied";
    case ErrorCode::kBusy: return "busy";
    case ErrorCode::kLimit: return "limit";
    case ErrorCode::kUnavailable: return "unavailable";
  }
  return "unknown";
}

std::string Error::to_string() const {
  return fmt::format("{}: {}", tern::to_string(code), message);
}

}  // namespace tern
