// auth/throttle.h: failed-login throttling per client IP and per account name.
//
// Each failure within the window counts; after `free_failures` a failure costs a delay
// that doubles per further failure (capped at 30 s); after `lockout_failures` logins from
// that IP or for that name are refused outright until the window passes. A success clears
// the name's count (not the IP's). The same rules apply to unknown names, so throttling
// reveals nothing about which accounts exist. Thread-safe; memory is bounded (oldest keys
// are dropped past a fixed count).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.h"
#include "config/config.h"

namespace tern::auth {

class Throttle {
 public:
  Throttle(const config::Auth& cfg, const Clock& clock);

  // Whether an attempt may proceed now (false: refuse without checking the password).
  bool allowed(std::string_view ip, std::string_view name);
  // Records a failure; returns the delay to apply before answering.
  std::chrono::milliseconds failed(std::string_view ip, std::string_view name);
  void succeeded(std::string_view ip, std::string_view name);

 private:
  struct Entry {
    uint32_t failures = 0;
    MonoTime first{};
  };
  Entry* lookup(std::unordered_map<std::string, Entry>& map, const std::string& key, MonoTime now);
  void prune(std::unordered_map<std::string, Entry>& map, MonoTime now);

  config::Auth cfg_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> by_ip_;
  std::unordered_map<std::string, Entry> by_name_;
};

}  // namespace tern::auth
