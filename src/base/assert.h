// base/assert.h: checks for bugs, never for peer input.
//
// TERN_CHECK(cond) aborts in every build with the location; TERN_ASSERT(cond) only in debug
// builds. Untrusted input is validated with Result/ParseError instead (shared/STYLE.md).
#pragma once

#include <cstdio>
#include <cstdlib>

namespace tern::detail {
[[noreturn]] inline void check_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "tern: check failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}
}  // namespace tern::detail

#define TERN_CHECK(cond) \
  ((cond) ? (void)0 : ::tern::detail::check_failed(#cond, __FILE__, __LINE__))

#ifdef NDEBUG
#define TERN_ASSERT(cond) ((void)0)
#else
#define TERN_ASSERT(cond) TERN_CHECK(cond)
#endif
