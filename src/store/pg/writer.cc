// store/pg/writer.cc: see writer.h.
#include "store/pg/writer.h"

#include <chrono>
#include <future>
#include <random>

#include "store/pg/notify.h"

namespace tern::store::pg {
namespace {

constexpr int kMaxAttempts = 6;

}  // namespace

struct Writer::Pending {
  Job job;
  Status result;
  std::vector<MailboxChange> events;
  std::promise<Status> done;
};

Writer::Writer(std::unique_ptr<Conn> conn, ChangeFeed* feed, std::string node_id)
    : conn_(std::move(conn)), feed_(feed), node_id_(std::move(node_id)), thread_([this] { loop(); }) {}

Writer::~Writer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Status Writer::run(Job job) {
  if (std::this_thread::get_id() == thread_.get_id()) {
    return make_error(ErrorCode::kInternal, "store write from the writer thread (ChangeFeed callback?)");
  }
  Pending p;
  p.job = std::move(job);
  auto fut = p.done.get_future();
  {
    std::lock_guard lock(mu_);
    if (stop_) return make_error(ErrorCode::kUnavailable, "store is closing");
    queue_.push_back(&p);
  }
  wake_.notify_one();
  return fut.get();
}

void Writer::loop() {
  std::vector<Pending*> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and drained
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
    }
    run_batch(batch);
    batch.clear();
  }
}

Status Writer::notify(const std::vector<Pending*>& batch) {
  std::vector<MailboxChange> all;
  for (const Pending* p : batch) all.insert(all.end(), p->events.begin(), p->events.end());
  if (all.empty()) return ok();
  for (const std::string& payload : encode_changes(node_id_, all)) {
    auto r = conn_->exec("SELECT pg_notify($1, $2)", Params().text(kChangeChannel).text(payload));
    if (!r) return tl::unexpected(r.error());
  }
  return ok();
}

Writer::Outcome Writer::attempt(std::vector<Pending*>& batch, int attempt_no) {
  Conn& c = *conn_;
  const bool last = attempt_no + 1 >= kMaxAttempts;
  for (Pending* p : batch) {
    p->result = ok();
    p->events.clear();
  }
  auto fail_all = [&](const Error& e) {
    for (Pending* p : batch) {
      if (p->result) p->result = tl::unexpected(e);
      p->events.clear();
    }
  };
  // Rolls back after a failure that spoils the whole batch; retries when that can help.
  auto abandon = [&](const Error& e) -> Outcome {
    const bool lost = c.broken();
    if (!lost) (void)c.run("ROLLBACK");
    if (!last && (lost || retryable(e))) return Outcome::kRetry;
    fail_all(e);
    return Outcome::kDone;
  };
  if (c.broken()) {
    if (auto s = c.reset(); !s) {
      if (!last) return Outcome::kRetry;
      fail_all(s.error());
      return Outcome::kDone;
    }
  }
  if (auto s = c.run("BEGIN"); !s) return abandon(s.error());
  const bool savepoints = batch.size() > 1;
  for (Pending* p : batch) {
    if (savepoints) {
      if (auto s = c.run("SAVEPOINT job"); !s) return abandon(s.error());
    }
    Status r = p->job(c, p->events);
    if (r) continue;
    if (c.broken() || retryable(r.error()) || !savepoints) {
      if (!savepoints && !c.broken() && !retryable(r.error())) {
        // The only job failed on its own: roll back and report its error.
        (void)c.run("ROLLBACK");
        p->result = std::move(r);
        p->events.clear();
        return Outcome::kDone;
      }
      return abandon(r.error());
    }
    p->result = std::move(r);
    p->events.clear();
    if (auto s = c.run("ROLLBACK TO SAVEPOINT job"); !s) return abandon(s.error());
  }
  if (!node_id_.empty()) {
    if (auto s = notify(batch); !s) return abandon(s.error());
  }
  if (auto s = c.run("COMMIT"); !s) {
    if (c.broken()) {
      // The commit may or may not have happened: never run the jobs twice.
      fail_all(Error(ErrorCode::kUnavailable, "postgres connection lost during COMMIT: " + s.error().message));
      return Outcome::kDone;
    }
    return abandon(s.error());
  }
  commits_.fetch_add(1, std::memory_order_relaxed);
  return Outcome::kDone;
}

void Writer::run_batch(std::vector<Pending*>& batch) {
  static thread_local std::minstd_rand rng{std::random_device{}()};
  for (int n = 0; n < kMaxAttempts; ++n) {
    if (attempt(batch, n) == Outcome::kDone) break;
    // Back off a little so the other side of a deadlock (or a restarting server) gets ahead.
    std::this_thread::sleep_for(std::chrono::milliseconds(1 + static_cast<int>(rng() % (5u << n))));
  }
  // Wake every caller first, then publish: the callers' replies need not wait on the feed.
  std::vector<MailboxChange> events;
  for (Pending* p : batch) {
    for (auto& e : p->events) events.push_back(std::move(e));
    // The caller frees `p` as soon as it wakes: keep the promise (and its shared state) here.
    std::promise<Status> done = std::move(p->done);
    done.set_value(std::move(p->result));
  }
  if (feed_ != nullptr) {
    for (const auto& e : events) feed_->publish(e);
  }
}

}  // namespace tern::store::pg
