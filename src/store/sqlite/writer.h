// store/sqlite/writer.h: the single writer thread that group-commits every write.
//
// Every write job from every thread is queued here. The writer thread takes all pending jobs,
// runs them inside one BEGIN IMMEDIATE ... COMMIT, each in its own SAVEPOINT (a failing job
// rolls back alone and reports its own error), commits once, wakes every caller of the batch,
// and then publishes the committed jobs' changes on the ChangeFeed (outside any lock).
// So N concurrent writers cost one fsync, not N.
//
// Thread-safety: run() may be called from any thread except the writer thread itself (a
// ChangeFeed callback must not write synchronously); it blocks until the job is durable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/result.h"
#include "store/change_feed.h"
#include "store/sqlite/connection.h"

namespace tern::store::sqlite {

class Writer {
 public:
  // A job runs on the writer thread inside the batch transaction. It appends the changes it
  // made to `events`; they are published only if the batch commits.
  using Job = std::function<Status(Connection&, std::vector<MailboxChange>& events)>;

  Writer(std::unique_ptr<Connection> conn, ChangeFeed* feed);
  ~Writer();  // finishes queued jobs, then joins the thread
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Runs `job` in the next batch; returns its status once the batch is committed (or the
  // job's error, or the commit's error). Blocks.
  Status run(Job job);
  // As run(), without blocking: `done` is called on the writer thread with the status once
  // the batch is committed (before the batch's changes are published). It must be quick
  // and must not write to the store. Callable from any thread.
  void submit(Job job, std::function<void(Status)> done);

  uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }

 private:
  struct Pending;
  void loop();
  void run_batch(std::vector<Pending*>& batch);

  std::unique_ptr<Connection> conn_;
  ChangeFeed* feed_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Pending*> queue_;
  bool stop_ = false;
  std::atomic<uint64_t> commits_{0};
  std::thread thread_;
};

}  // namespace tern::store::sqlite
