// base/clock.h: time as the rest of Tern sees it, replaceable in tests.
//
// Clock is an interface so throttling, queue and timeout logic can run on a FakeClock.
// SystemClock is stateless and thread-safe; FakeClock is thread-safe (atomic).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tern {

using SysTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SysTime now() const = 0;          // wall clock, for dates shown to users
  virtual MonoTime monotonic() const = 0;   // for intervals and deadlines
};

class SystemClock final : public Clock {
 public:
  SysTime now() const override { return std::chrono::system_clock::now(); }
  MonoTime monotonic() const override { return std::chrono::steady_clock::now(); }
  static const SystemClock& instance() {
    static const SystemClock clock;
    return clock;
  }
};

class FakeClock final : public Clock {
 public:
  SysTime now() const override { return SysTime(std::chrono::nanoseconds(ns_.load())); }
  MonoTime monotonic() const override { return MonoTime(std::chrono::nanoseconds(ns_.load())); }
  void advance(std::chrono::nanoseconds d) { ns_ += d.count(); }
  void set(SysTime t) { ns_ = t.time_since_epoch().count(); }

 private:
  std::atomic<int64_t> ns_{1'700'000'000'000'000'000};
};

// Seconds since the Unix epoch, the unit the store keeps dates in.
inline int64_t unix_seconds(SysTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace tern
