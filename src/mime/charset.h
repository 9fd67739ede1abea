// mime/charset.h: conversion of text in a named charset to UTF-8, with ICU.
//
// Contract: pure; never fails. Charset names are matched as found in real mail (ICU's
// alias table plus a few mail-specific names). "unknown-8bit", unknown and empty names:
// the bytes are used as UTF-8 when they are valid UTF-8, else read as windows-1252.
// Invalid byte sequences become U+FFFD. Thread-safe (one ICU converter per call).
#pragma once

#include <string>
#include <string_view>

namespace tern::mime {

std::string to_utf8(std::string_view bytes, std::string_view charset);
bool is_valid_utf8(std::string_view bytes);

}  // namespace tern::mime
