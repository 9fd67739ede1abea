// store/pg/notify.h: the ChangeFeed across nodes, over LISTEN/NOTIFY.
//
// The writer NOTIFYs every committed batch's changes on kChangeChannel (inside the
// transaction, so PostgreSQL delivers them only on commit, in commit order). Each node runs
// one Listener: a thread with its own connection that LISTENs and publishes the changes of
// other nodes on the local ChangeFeed. A node skips its own notifications (it published
// them in-process already) by the node id in each payload.
//
// Payload (text, at most kMaxPayload bytes; a long UID list is split across payloads, each
// repeating the change's kind, ids and modseq):
//   tern1 <node-id>
//   <kind> <account-id> <mailbox-id> <modseq> <uid>,<uid>,...
//
// Delivery is best effort: while the listener's connection is down (it reconnects with
// back-off) remote changes are missed; sessions resynchronise on their next command.
// Thread-safety: encode/decode are pure; Listener's constructor and destructor are called
// from one thread.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store/change_feed.h"

namespace tern::store::pg {

inline constexpr std::size_t kMaxPayload = 7900;  // PostgreSQL's limit is 8000 bytes

std::vector<std::string> encode_changes(std::string_view node_id, const std::vector<MailboxChange>& changes);

struct DecodedChanges {
  std::string node_id;
  std::vector<MailboxChange> changes;
};
// nullopt for a payload this version does not understand.
std::optional<DecodedChanges> decode_changes(std::string_view payload);

class Listener {
 public:
  // Starts the thread; it connects with `conninfo` (retrying until it succeeds or stops).
  // Returns once the first LISTEN has been tried (at most a few seconds), so changes other
  // nodes commit after the store has opened are heard.
  Listener(std::string conninfo, std::string node_id, ChangeFeed* feed);
  ~Listener();  // stops and joins the thread
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

 private:
  void loop();
  bool wait_stop(int millis);  // true when asked to stop
  void first_attempt_done();

  std::string conninfo_;
  std::string node_id_;
  ChangeFeed* feed_;
  int wake_fd_[2] = {-1, -1};  // a pipe: written once to stop the thread
  std::mutex mu_;
  std::condition_variable tried_cv_;
  bool tried_ = false;  // guarded by mu_: the first LISTEN attempt has finished
  std::thread thread_;
};

}  // namespace tern::store::pg
