// base/strings.h: small byte and string helpers shared by every module. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tern {

// ASCII-only case folding; mail protocols are case-insensitive only over ASCII.
std::string ascii_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);
std::string_view trim(std::string_view s);
std::vector<std::string_view> split(std::string_view s, char sep);

// Standard base64 (RFC 4648 section 4). decode returns false on any invalid input.
std::string base64_encode(std::string_view in);
bool base64_decode(std::string_view in, std::string& out);

// Compares in time independent of where the first difference is (length still leaks).
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace tern
