// bench/store_append.cc: append throughput and fsyncs per append of the SQLite store.
//
// For each (writers, message size) case, N threads append into their own mailboxes of one
// fresh store until ~3 s or 2000 appends have passed, then print appends/s and
// commits/append (each WAL commit with synchronous=FULL costs one fsync), as lines and as a
// table. Group commit should push fsyncs/append far below 1 as writers grow.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/sqlite_store.h"

namespace {

using namespace tern::store;

struct Figures {
  int writers;
  std::size_t size;
  uint64_t appends;
  uint64_t commits;
  double seconds;
  int failures;
};

Figures run_case(int writers, std::size_t size) {
  std::string dir = (std::filesystem::temp_directory_path() / "tern-bench-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) std::abort();
  Figures f{writers, size, 0, 0, 0, 0};
  {
    auto store = open_sqlite_store(SqliteOptions{dir + "/tern.db", 2}, nullptr);
    if (!store) {
      std::fprintf(stderr, "open: %s\n", store.error().to_string().c_str());
      std::exit(1);
    }
    auto& s = **store;
    (void)s.add_domain("bench.test");
    std::vector<Id> boxes;
    for (int w = 0; w < writers; ++w) {
      auto a = s.add_account("u" + std::to_string(w) + "@bench.test", "x");
      auto m = s.find_mailbox(a->id, "INBOX");
      boxes.push_back((*m)->id);
    }
    std::string body(size, 'x');
    for (std::size_t i = 76; i < size; i += 78) body[i] = '\n';
    const StoreStats before = s.stats();
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::seconds(3);
    constexpr uint64_t kMaxAppends = 2000;
    std::atomic<uint64_t> started{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        AppendTarget t{boxes[static_cast<std::size_t>(w)], 0, {}};
        while (std::chrono::steady_clock::now() < deadline && started.fetch_add(1) < kMaxAppends) {
          if (!s.append(body, 1700000000, std::span(&t, 1))) ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const StoreStats after = s.stats();
    f.appends = after.appends - before.appends;
    f.commits = after.commits - before.commits;
    f.failures = failures.load();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return f;
}

}  // namespace

int main() {
  std::vector<Figures> all;
  for (std::size_t size : {std::size_t{4096}, std::size_t{65536}}) {
    for (int writers : {1, 10, 50}) {
      Figures f = run_case(writers, size);
      std::printf("writers=%d size=%zu appends=%llu commits=%llu seconds=%.2f appends/s=%.0f fsyncs/append=%.3f%s\n",
                  f.writers, f.size, static_cast<unsigned long long>(f.appends),
                  static_cast<unsigned long long>(f.commits), f.seconds, f.appends / f.seconds,
                  f.appends ? static_cast<double>(f.commits) / static_cast<double>(f.appends) : 0.0,
                  f.failures ? " (FAILURES)" : "");
      std::fflush(stdout);
      all.push_back(f);
    }
  }
  std::printf("\n| writers | size | appends | commits | appends/s | fsyncs/append |\n");
  std::printf("|--------:|-----:|--------:|--------:|----------:|--------------:|\n");
  for (const auto& f : all) {
    std::printf("| %d | %zu KiB | %llu | %llu | %.0f | %.3f |\n", f.writers, f.size / 1024,
                static_cast<unsigned long long>(f.appends), static_cast<unsigned long long>(f.commits),
                f.appends / f.seconds,
                f.appends ? static_cast<double>(f.commits) / static_cast<double>(f.appends) : 0.0);
  }
  return 0;
}
