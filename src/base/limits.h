// base/limits.h: the hard ceilings no configuration may exceed. Configured limits
// (config/config.h) are checked against these when the config is validated.
#pragma once

#include <cstddef>

namespace tern::limits {

inline constexpr std::size_t kMaxLineLength = 64 * 1024;              // any protocol line
inline constexpr std::size_t kMaxMessageSize = 1024ull * 1024 * 1024;  // 1 GiB
inline constexpr std::size_t kMaxAddressLength = 320;                 // RFC 5321 4.5.3.1
inline constexpr std::size_t kMaxPasswordLength = 1024;
inline constexpr std::size_t kMaxSaslLength = 16 * 1024;

}  // namespace tern::limits
