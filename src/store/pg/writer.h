// store/pg/writer.h: the writer thread that group-commits every write of this node.
//
// Every write job from every thread is queued here. The writer thread takes the pending
// jobs (at most kMaxBatch), runs them in one READ COMMITTED transaction, each behind its own
// SAVEPOINT when there are several (a failing job rolls back alone and reports its own
// error), sends the batch's changes with NOTIFY (delivered to other nodes only if the
// transaction commits), commits once (synchronous_commit: one WAL flush for the batch),
// wakes every caller, and publishes the changes on the local ChangeFeed.
//
// Cross-node safety comes from row locks taken by the jobs (UPDATE ... RETURNING or SELECT
// ... FOR UPDATE on the mailbox row), held until the batch commits. A deadlock or
// serialization failure with another node rolls the whole batch back and runs it again
// (jobs must be re-runnable: they reset their outputs first). A connection lost before
// COMMIT is re-established and the batch re-run; one lost during COMMIT fails the batch
// with kUnavailable (its outcome is unknown).
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
#include <string>
#include <thread>
#include <vector>

#include "base/result.h"
#include "store/change_feed.h"
#include "store/pg/connection.h"

namespace tern::store::pg {

// NOTIFY channel carrying committed changes between nodes (see notify.h).
inline constexpr const char* kChangeChannel = "tern_changes";

class Writer {
 public:
  using Job = std::function<Status(Conn&, std::vector<MailboxChange>& events)>;
  // Bounded so that the savepoints of one batch stay within PostgreSQL's per-backend
  // subtransaction cache (64): beyond it every snapshot in the cluster gets slower.
  static constexpr std::size_t kMaxBatch = 60;

  // `node_id`: sent with every NOTIFY so this node's listener can skip its own changes;
  // empty disables NOTIFY.
  Writer(std::unique_ptr<Conn> conn, ChangeFeed* feed, std::string node_id);
  ~Writer();  // finishes queued jobs, then joins the thread
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  Status run(Job job);

  uint64_t commits() const { return commits_.load(std::memory_order_relaxed); }

 private:
  struct Pending;
  enum class Outcome { kDone, kRetry };
  void loop();
  void run_batch(std::vector<Pending*>& batch);
  Outcome attempt(std::vector<Pending*>& batch, int attempt_no);
  Status notify(const std::vector<Pending*>& batch);

  std::unique_ptr<Conn> conn_;
  ChangeFeed* feed_;
  std::string node_id_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Pending*> queue_;
  bool stop_ = false;
  std::atomic<uint64_t> commits_{0};
  std::thread thread_;
};

}  // namespace tern::store::pg
