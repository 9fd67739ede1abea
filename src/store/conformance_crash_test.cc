// store/conformance_crash_test.cc: crash safety, part of the conformance suite.
//
// A forked child appends messages in a loop and reports each UID on a pipe once append()
// has returned; the parent SIGKILLs it mid-stream, reopens the store, and checks that every
// reported message is there with its exact bytes and that every present message is whole.
// The same with deliver(): then each message is also queued, and a delivery is either whole
// (mailbox copy and queue entry) or absent.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "store/conformance_test.h"

namespace tern::store::testing {
namespace {

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h;
}

// A message whose header states its own length and the checksum of its body.
std::string make_message(int i) {
  std::string body;
  const std::size_t n = 200 + static_cast<std::size_t>(i % 17) * 997 + (i % 5 == 0 ? 70000 : 0);
  body.reserve(n);
  for (std::size_t k = 0; k < n; ++k) body.push_back(static_cast<char>('A' + (k * 31 + static_cast<std::size_t>(i)) % 58));
  char head[96];
  std::snprintf(head, sizeof head, "X-Len: %08zu\r\nX-Sum: %016llx\r\n\r\n", body.size(),
                static_cast<unsigned long long>(fnv1a(body)));
  return head + body;
}

// True when `bytes` is a whole message as make_message writes them.
bool self_consistent(const std::string& bytes) {
  std::size_t len = 0;
  unsigned long long sum = 0;
  if (std::sscanf(bytes.c_str(), "X-Len: %08zu\r\nX-Sum: %016llx\r\n\r\n", &len, &sum) != 2) return false;
  auto split = bytes.find("\r\n\r\n");
  if (split == std::string::npos) return false;
  std::string body = bytes.substr(split + 4);
  return body.size() == len && fnv1a(body) == sum;
}

// Appends (or, with `deliver`, delivers to INBOX and queues for a remote recipient, the
// ENVID naming the message) in a loop, reporting "uid i" on `fd` once each call returned.
[[noreturn]] void child_main(BackendInstance& db, Id inbox, int fd, bool deliver) {
  auto store = db.open(nullptr);
  if (!store) _exit(2);
  for (int i = 0;; ++i) {
    std::string msg = make_message(i);
    AppendTarget t{inbox, 0, {}};
    uint32_t uid = 0;
    if (deliver) {
      OutboundMessage out;
      out.envid = std::to_string(i);
      out.recipients.push_back(OutboundRecipient{"far@remote.test", 0, "", QueueState::kQueued, ""});
      auto r = (*store)->deliver(msg, 1700000000 + i, std::span(&t, 1), &out);
      if (!r) _exit(3);
      uid = r->appended[0].uid;
    } else {
      auto r = (*store)->append(msg, 1700000000 + i, std::span(&t, 1));
      if (!r) _exit(3);
      uid = (*r)[0].uid;
    }
    std::string line = std::to_string(uid) + " " + std::to_string(i) + "\n";
    if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
  }
}

// Forks a writer child, reads its reports until 60 calls are acknowledged, SIGKILLs it, and
// returns what it reported (uid -> message index) in `reported`. No store may be open.
void run_and_kill(BackendInstance& db, Id inbox, bool deliver, std::map<uint32_t, int>& reported) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    child_main(db, inbox, fds[1], deliver);
  }
  close(fds[1]);
  std::string buf;
  char chunk[512];
  bool killed = false;
  for (;;) {
    ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;
    buf.append(chunk, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      unsigned uid = 0;
      int i = 0;
      ASSERT_EQ(std::sscanf(buf.substr(0, nl).c_str(), "%u %d", &uid, &i), 2);
      reported[uid] = i;
      buf.erase(0, nl + 1);
    }
    if (!killed && reported.size() >= 60) {
      kill(pid, SIGKILL);
      killed = true;
    }
  }
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(killed) << "child stopped early, status " << status;
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

// Every reported message is in INBOX with its exact bytes, every present one is whole, and
// the mailbox's counters agree.
void check_inbox(MailStore& store, Id inbox, const std::map<uint32_t, int>& reported, std::vector<Message>& msgs) {
  auto listed = store.list_messages(inbox);
  ASSERT_TRUE(listed) << listed.error().to_string();
  msgs = *listed;
  std::map<uint32_t, const Message*> present;
  for (const auto& m : msgs) present[m.uid] = &m;
  for (const auto& [uid, i] : reported) {
    auto it = present.find(uid);
    ASSERT_NE(it, present.end()) << "acknowledged UID " << uid << " lost";
    auto bytes = store.read_blob(it->second->blob_id);
    ASSERT_TRUE(bytes);
    EXPECT_TRUE(*bytes == make_message(i)) << "UID " << uid << " has different bytes";
  }
  for (const auto& m : msgs) {
    auto bytes = store.read_blob(m.blob_id);
    ASSERT_TRUE(bytes) << bytes.error().to_string();
    EXPECT_EQ(bytes->size(), m.size);
    EXPECT_TRUE(self_consistent(*bytes)) << "UID " << m.uid << " is torn";
  }
  auto box = store.get_mailbox(inbox);
  ASSERT_TRUE(box && *box);
  EXPECT_EQ((*box)->messages, msgs.size());
  EXPECT_GT((*box)->uidnext, msgs.empty() ? 0u : msgs.back().uid);
}

}  // namespace

TEST_P(StoreConformance, SurvivesSigkillMidAppend) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  store_.reset();  // no store threads while forking
  std::map<uint32_t, int> reported;
  run_and_kill(*db_, inbox, false, reported);
  if (HasFatalFailure()) return;

  reopen();
  std::vector<Message> msgs;
  check_inbox(*store_, inbox, reported, msgs);
  if (HasFatalFailure()) return;
  // The store still works after the crash.
  AppendTarget t{inbox, 0, {}};
  auto after = store_->append(make_message(1), 1, std::span(&t, 1));
  ASSERT_TRUE(after);
  EXPECT_GT((*after)[0].uid, msgs.empty() ? 0u : msgs.back().uid);
}

TEST_P(StoreConformance, SurvivesSigkillMidDeliver) {
  Id acc = make_account();
  Id inbox = mailbox_id(acc, "INBOX");
  store_.reset();
  std::map<uint32_t, int> reported;
  run_and_kill(*db_, inbox, true, reported);
  if (HasFatalFailure()) return;

  reopen();
  std::vector<Message> msgs;
  check_inbox(*store_, inbox, reported, msgs);
  if (HasFatalFailure()) return;
  // Each delivery is whole: its INBOX copy and its queue entry, sharing the bytes, or
  // neither.
  auto queue = store_->list_queue();
  ASSERT_TRUE(queue) << queue.error().to_string();
  ASSERT_EQ(queue->size(), msgs.size());
  std::map<std::string, const QueueEntry*> by_envid;
  for (const auto& e : *queue) by_envid[e.message.envid] = &e;
  for (const auto& m : msgs) {
    const std::string i = std::to_string(m.internal_date - 1700000000);
    auto it = by_envid.find(i);
    ASSERT_NE(it, by_envid.end()) << "UID " << m.uid << " has no queue entry";
    EXPECT_EQ(it->second->blob_id, m.blob_id);
    EXPECT_EQ(it->second->size, m.size);
  }
  // The store still works after the crash.
  OutboundMessage out;
  out.recipients.push_back(OutboundRecipient{"far@remote.test", 0, "", QueueState::kQueued, ""});
  auto after = store_->deliver(make_message(1), 1, {}, &out);
  ASSERT_TRUE(after) << after.error().to_string();
}

}  // namespace tern::store::testing
