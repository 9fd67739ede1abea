// auth/throttle.cc: failed-login counting per IP and per name (see throttle.h).
//
// Invariant: an entry counts the failures since `first`; once now - first reaches the
// window the entry is stale and treated (and eventually erased) as absent.
#include "auth/throttle.h"

#include <algorithm>
#include <vector>

namespace tern::auth {
namespace {

// Keys kept per map. Past it, stale entries go first, then the oldest.
constexpr std::size_t kMaxKeys = 100'000;
constexpr std::chrono::milliseconds kMaxDelay{30'000};

}  // namespace

Throttle::Throttle(const config::Auth& cfg, const Clock& clock) : cfg_(cfg), clock_(clock) {}

Throttle::Entry* Throttle::lookup(std::unordered_map<std::string, Entry>& map,
                                  const std::string& key, MonoTime now) {
  auto it = map.find(key);
  if (it == map.end()) return nullptr;
  if (now - it->second.first >= cfg_.throttle_window) {
    map.erase(it);
    return nullptr;
  }
  return &it->second;
}

void Throttle::prune(std::unordered_map<std::string, Entry>& map, MonoTime now) {
  std::erase_if(map, [&](const auto& kv) { return now - kv.second.first >= cfg_.throttle_window; });
  if (map.size() < kMaxKeys) return;
  // Still full of live entries (an attack from many addresses): drop the oldest tenth.
  std::vector<MonoTime> firsts;
  firsts.reserve(map.size());
  for (const auto& kv : map) firsts.push_back(kv.second.first);
  auto nth = firsts.begin() + static_cast<std::ptrdiff_t>(firsts.size() / 10);
  std::nth_element(firsts.begin(), nth, firsts.end());
  MonoTime cutoff = *nth;
  std::erase_if(map, [&](const auto& kv) { return kv.second.first <= cutoff; });
}

bool Throttle::allowed(std::string_view ip, std::string_view name) {
  MonoTime now = clock_.monotonic();
  std::lock_guard lock(mu_);
  for (auto* map : {&by_ip_, &by_name_}) {
    const Entry* e = lookup(*map, std::string(map == &by_ip_ ? ip : name), now);
    if (e && e->failures >= cfg_.throttle_lockout_failures) return false;
  }
  return true;
}

std::chrono::milliseconds Throttle::failed(std::string_view ip, std::string_view name) {
  MonoTime now = clock_.monotonic();
  uint32_t worst = 0;
  {
    std::lock_guard lock(mu_);
    for (auto* map : {&by_ip_, &by_name_}) {
      std::string key(map == &by_ip_ ? ip : name);
      Entry* e = lookup(*map, key, now);
      if (!e) {
        if (map->size() >= kMaxKeys) prune(*map, now);
        e = &(*map)[key];
        e->first = now;
      }
      if (e->failures < UINT32_MAX) ++e->failures;
      worst = std::max(worst, e->failures);
    }
  }
  if (worst <= cfg_.throttle_free_failures) return std::chrono::milliseconds(0);
  uint32_t doublings = worst - cfg_.throttle_free_failures - 1;
  std::chrono::milliseconds delay = cfg_.throttle_base_delay;
  for (uint32_t i = 0; i < doublings && delay < kMaxDelay; ++i) delay *= 2;
  return std::min(delay, kMaxDelay);
}

void Throttle::succeeded(std::string_view /*ip*/, std::string_view name) {
  std::lock_guard lock(mu_);
  by_name_.erase(std::string(name));
}

}  // namespace tern::auth
