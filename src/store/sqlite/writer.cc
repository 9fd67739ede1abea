// store/sqlite/writer.cc: see writer.h.
#include "store/sqlite/writer.h"

#include <future>

namespace tern::store::sqlite {

struct Writer::Pending {
  Job job;
  Status result;
  std::vector<MailboxChange> events;
  std::promise<Status> done;                // run(): the blocked caller waits on it
  std::function<void(Status)> callback;     // submit(): called instead; `this` is heap-owned
};

Writer::Writer(std::unique_ptr<Connection> conn, ChangeFeed* feed)
    : conn_(std::move(conn)), feed_(feed), thread_([this] { loop(); }) {}

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

void Writer::submit(Job job, std::function<void(Status)> done) {
  auto* p = new Pending;
  p->job = std::move(job);
  p->callback = std::move(done);
  {
    std::lock_guard lock(mu_);
    if (stop_) {
      std::function<void(Status)> cb = std::move(p->callback);
      delete p;
      cb(make_error(ErrorCode::kUnavailable, "store is closing"));
      return;
    }
    queue_.push_back(p);
  }
  wake_.notify_one();
}

void Writer::loop() {
  std::vector<Pending*> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and drained
      batch.assign(queue_.begin(), queue_.end());
      queue_.clear();
    }
    run_batch(batch);
    batch.clear();
  }
}

void Writer::run_batch(std::vector<Pending*>& batch) {
  Connection& c = *conn_;
  auto fail_all = [&](const Error& e) {
    for (Pending* p : batch) {
      if (p->result) p->result = tl::unexpected(e);
      p->events.clear();
    }
  };
  if (auto s = c.exec("BEGIN IMMEDIATE"); !s) {
    fail_all(s.error());
  } else {
    bool broken = false;
    for (Pending* p : batch) {
      if (auto s = c.exec("SAVEPOINT job"); !s) {
        p->result = tl::unexpected(s.error());
        broken = true;
        break;
      }
      p->result = p->job(c, p->events);
      if (!c.in_transaction()) {
        // SQLite rolled the whole transaction back (I/O error, disk full): the earlier
        // jobs of the batch are lost too.
        broken = true;
        if (p->result) p->result = make_error(ErrorCode::kIo, "store transaction rolled back");
        break;
      }
      if (!p->result) {
        p->events.clear();
        auto rb = c.exec("ROLLBACK TO job");
        if (!rb) {
          broken = true;
          break;
        }
      }
      if (auto s = c.exec("RELEASE job"); !s) {
        broken = true;
        break;
      }
    }
    if (broken) {
      if (c.in_transaction()) (void)c.exec("ROLLBACK");
      fail_all(Error(ErrorCode::kIo, "store batch failed"));
    } else if (auto s = c.exec("COMMIT"); !s) {
      if (c.in_transaction()) (void)c.exec("ROLLBACK");
      fail_all(s.error());
    } else {
      commits_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  // Wake every caller first, then publish: the callers' replies need not wait on the feed.
  std::vector<MailboxChange> events;
  for (Pending* p : batch) {
    for (auto& e : p->events) events.push_back(std::move(e));
    if (p->callback) {
      std::function<void(Status)> cb = std::move(p->callback);
      Status result = std::move(p->result);
      delete p;
      cb(std::move(result));
      continue;
    }
    // The caller frees `p` as soon as it wakes: keep the promise (and its shared state) here.
    std::promise<Status> done = std::move(p->done);
    done.set_value(std::move(p->result));
  }
  if (feed_ != nullptr) {
    for (const auto& e : events) feed_->publish(e);
  }
}

}  // namespace tern::store::sqlite
