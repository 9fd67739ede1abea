// store/sqlite/sqlite_locks.cc: the POP3 maildrop lock (MailStore::lock_maildrop).
//
// Every store on one database, in this process or another, must agree, and a crashed
// process must not leave a lock behind. So the lock is not a row: it is an open file
// description lock (F_OFD_SETLK) on byte `account_id` of the file "<db>-pop3" beside the
// database. Each lock opens the file anew, so two locks in one process conflict like
// locks in two processes do, and closing the descriptor (or the process dying) releases
// it. The file stays empty (locks beyond its end are allowed) and is never removed.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/sqlite/sqlite_store_impl.h"

namespace tern::store::sqlite {
namespace {

class FileMaildropLock final : public MaildropLock {
 public:
  explicit FileMaildropLock(int fd) : fd_(fd) {}
  ~FileMaildropLock() override { ::close(fd_); }  // releases the lock with the description
  FileMaildropLock(const FileMaildropLock&) = delete;
  FileMaildropLock& operator=(const FileMaildropLock&) = delete;

 private:
  int fd_;
};

}  // namespace

Result<std::unique_ptr<MaildropLock>> SqliteStore::lock_maildrop(Id account_id) {
  if (account_id <= 0) return make_error(ErrorCode::kInvalid, "bad account id {}", account_id);
  const std::string lock_path = path_ + "-pop3";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorCode::kIo, "open {}: {}", lock_path, std::strerror(errno));
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(account_id);
  fl.l_len = 1;
  fl.l_pid = 0;  // required by F_OFD_SETLK
  if (::fcntl(fd, F_OFD_SETLK, &fl) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EAGAIN || err == EACCES) {
      return make_error(ErrorCode::kBusy, "POP3 maildrop of account {} is locked", account_id);
    }
    return make_error(ErrorCode::kIo, "lock {}: {}", lock_path, std::strerror(err));
  }
  return std::unique_ptr<MaildropLock>(std::make_unique<FileMaildropLock>(fd));
}

}  // namespace tern::store::sqlite
