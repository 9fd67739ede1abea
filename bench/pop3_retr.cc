// bench/pop3_retr: POP3 download throughput of a real `tern serve`, and the server's CPU per
// message. Prints figures; asserts nothing.
//
// Fills a fresh SQLite data directory with 100 messages of the gen_mbox mix (shared corpus)
// in the INBOX of each of 10 accounts, starts `tern serve` on it, and for each case runs
// 100 sessions (spread over the concurrent clients, each client on its own account): log in,
// LIST, UIDL, RETR every message, QUIT. RETR goes one command at a time, or all 100 at once
// (RFC 2449 PIPELINING). Tern's CPU time (user + system, all threads, from /proc) is read
// around each case, so client work is not counted. A last case logs in and quits only,
// which prices the password check apart from the message traffic. Last, one 50 MiB
// message is retrieved while the server's RSS is sampled.
//
// The server runs with its default auth cache ([auth] cache_ttl), which the warm-up run of
// each case fills, so logins cost an HMAC, not yescrypt; --no-auth-cache turns the cache off
// and every login pays yescrypt (the cold-cache figure).
//
// Usage: pop3_retr [--tern PATH] [--mbox FILE] [--sessions N] [--messages N] [--no-auth-cache]
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "mbox.h"
#include "auth/password.h"
#include "store/sqlite/sqlite_store.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kAccounts = 10;
constexpr const char* kPassword = "bench password";

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "pop3_retr: %s\n", what.c_str());
  std::exit(1);
}

using tern::bench::split_mbox;

// LF line ends become CRLF, as SMTP stores them.
std::string crlf(const std::string& s) {
  std::string out;
  out.reserve(s.size() + s.size() / 40);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) out += '\r';
    out += s[i];
  }
  return out;
}

// ---- The server process.

struct Server {
  pid_t pid = -1;
  uint16_t plain_port = 0;
  uint16_t tls_port = 0;
};

Server start_server(const std::string& tern, const std::string& config) {
  int out[2];
  if (pipe(out) != 0) die("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  std::vector<std::string> args = {tern, "serve", "--config", config};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  Server s;
  if (posix_spawn(&s.pid, tern.c_str(), &fa, nullptr, argv.data(), environ) != 0) die("cannot start " + tern);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  FILE* f = fdopen(out[0], "r");
  char line[512];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    std::string_view l(line);
    unsigned port = 0;
    char tls[32] = {0};
    if (std::sscanf(line, "listening pop3 127.0.0.1:%u tls=%31s", &port, tls) == 2) {
      (std::string_view(tls) == "implicit" ? s.tls_port : s.plain_port) = static_cast<uint16_t>(port);
    }
    if (l.starts_with("ready")) break;
  }
  // Keep draining stdout in the background so the server never blocks on it.
  std::thread([f] {
    char buf[512];
    while (std::fgets(buf, sizeof buf, f) != nullptr) {
    }
    std::fclose(f);
  }).detach();
  if (s.plain_port == 0 || s.tls_port == 0) die("tern serve did not report its POP3 ports");
  return s;
}

// The server's CPU time so far (user + system, every thread), in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t p = stat.rfind(')');
  if (p == std::string::npos) die("cannot read /proc/<pid>/stat");
  // Fields after the command: state(3) ... utime(14) stime(15).
  std::vector<std::string> fields;
  std::size_t i = p + 2;
  while (i < stat.size() && fields.size() < 13) {
    std::size_t sp = stat.find(' ', i);
    fields.push_back(stat.substr(i, sp - i));
    i = sp + 1;
  }
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
}

// ---- A minimal blocking POP3 client.

class Client {
 public:
  Client(uint16_t port, SSL_CTX* tls) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) die("connect");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (tls != nullptr) {
      ssl_ = SSL_new(tls);
      SSL_set_fd(ssl_, fd_);
      if (SSL_connect(ssl_) != 1) die("TLS handshake");
    }
    buf_.resize(256 * 1024);
  }
  ~Client() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    ::close(fd_);
  }

  void send(std::string_view s) {
    while (!s.empty()) {
      long n = ssl_ != nullptr ? SSL_write(ssl_, s.data(), static_cast<int>(s.size()))
                               : ::write(fd_, s.data(), s.size());
      if (n <= 0) die("write");
      s.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  // One line without its CRLF (a view into the buffer, valid until the next read).
  std::string_view line() {
    for (;;) {
      const char* lf = static_cast<const char*>(std::memchr(buf_.data() + start_, '\n', end_ - start_));
      if (lf != nullptr) {
        std::size_t len = static_cast<std::size_t>(lf - (buf_.data() + start_));
        std::string_view l(buf_.data() + start_, len > 0 && lf[-1] == '\r' ? len - 1 : len);
        start_ += len + 1;
        return l;
      }
      fill();
    }
  }

  std::string_view ok() {
    std::string_view l = line();
    if (!l.starts_with("+OK")) die("server said: " + std::string(l));
    return l;
  }

  // Reads a multi-line body to its "." line; returns its octets un-stuffed, CRLF included.
  uint64_t multiline() {
    uint64_t octets = 0;
    for (;;) {
      std::string_view l = line();
      if (l == ".") return octets;
      octets += l.size() + 2 - (l.starts_with(".") ? 1 : 0);
    }
  }

 private:
  void fill() {
    if (start_ > 0) {
      std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
      end_ -= start_;
      start_ = 0;
    }
    if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
    long n = ssl_ != nullptr ? SSL_read(ssl_, buf_.data() + end_, static_cast<int>(buf_.size() - end_))
                             : ::read(fd_, buf_.data() + end_, buf_.size() - end_);
    if (n <= 0) die("connection closed");
    end_ += static_cast<std::size_t>(n);
  }

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string buf_;
  std::size_t start_ = 0;
  std::size_t end_ = 0;
};

struct Case {
  const char* name;
  int clients;
  bool pipelined;
  bool tls;
  bool login_only;
};

struct Figures {
  uint64_t sessions = 0;
  uint64_t messages = 0;
  uint64_t bytes = 0;
  double wall = 0;
  double cpu = 0;
};

// One session on `account`: login, LIST, UIDL, RETR all, QUIT. Adds to messages and bytes.
void session(const Case& c, const Server& srv, SSL_CTX* tls, int account, std::atomic<uint64_t>& messages,
             std::atomic<uint64_t>& bytes) {
  Client cl(c.tls ? srv.tls_port : srv.plain_port, c.tls ? tls : nullptr);
  cl.ok();
  cl.send("USER bench" + std::to_string(account) + "@bench.test\r\nPASS " + kPassword + "\r\n");
  cl.ok();
  cl.ok();
  if (c.login_only) {
    cl.send("QUIT\r\n");
    cl.ok();
    return;
  }
  cl.send("LIST\r\n");
  cl.ok();
  std::vector<uint64_t> sizes;
  for (;;) {
    std::string_view l = cl.line();
    if (l == ".") break;
    sizes.push_back(std::strtoull(l.data() + l.find(' ') + 1, nullptr, 10));
  }
  cl.send("UIDL\r\n");
  cl.ok();
  cl.multiline();
  if (c.pipelined) {
    std::string all;
    for (std::size_t n = 1; n <= sizes.size(); ++n) all += "RETR " + std::to_string(n) + "\r\n";
    cl.send(all);
  }
  for (std::size_t n = 1; n <= sizes.size(); ++n) {
    if (!c.pipelined) cl.send("RETR " + std::to_string(n) + "\r\n");
    cl.ok();
    const uint64_t got = cl.multiline();
    if (got != sizes[n - 1]) die("RETR " + std::to_string(n) + ": " + std::to_string(got) + " octets, LIST said " +
                                 std::to_string(sizes[n - 1]));
    bytes += got;
    ++messages;
  }
  cl.send("QUIT\r\n");
  cl.ok();
}

Figures run_case(const Case& c, const Server& srv, SSL_CTX* tls, int sessions) {
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<int> next{0};
  const double cpu0 = cpu_seconds(srv.pid);
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < c.clients; ++t) {
    threads.emplace_back([&, t] {
      while (next.fetch_add(1) < sessions) session(c, srv, tls, 1 + t % kAccounts, messages, bytes);
    });
  }
  for (auto& th : threads) th.join();
  Figures f;
  f.wall = std::chrono::duration<double>(Clock::now() - t0).count();
  // The last session's cleanup (lock release) may still be finishing: let it be counted.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  f.cpu = cpu_seconds(srv.pid) - cpu0;
  f.sessions = static_cast<uint64_t>(sessions);
  f.messages = messages;
  f.bytes = bytes;
  return f;
}

// The server's resident memory now, in KiB.
long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// RETR of one 50 MiB message (lines with leading dots included) while sampling the server's
// RSS: what streaming from the blob store costs in memory.
void large_retr(const Server& srv, const std::string& dir, const std::string& hash) {
  std::string big = "Subject: large\r\n\r\n";
  for (int i = 0; big.size() < (50u << 20); ++i) {
    big += (i % 7 == 0 ? "." : "") + std::string(60 + static_cast<std::size_t>(i % 17), 'a' + static_cast<char>(i % 26)) + "\r\n";
  }
  {
    auto opened = tern::store::open_sqlite_store({dir + "/tern.db", 1}, nullptr);
    if (!opened) die(opened.error().to_string());
    auto acc = (*opened)->add_account("large@bench.test", hash);
    if (!acc) die(acc.error().to_string());
    tern::store::AppendTarget t{(*(*opened)->find_mailbox(acc->id, "INBOX"))->id, 0, {}};
    if (!(*opened)->append(big, 1700000000, std::span(&t, 1))) die("append large");
  }
  Client cl(srv.plain_port, nullptr);
  cl.ok();
  cl.send(std::string("USER large@bench.test\r\nPASS ") + kPassword + "\r\n");
  cl.ok();
  cl.ok();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const long before = rss_kib(srv.pid);
  std::atomic<bool> done{false};
  long peak = before;
  std::thread sampler([&] {
    while (!done) {
      peak = std::max(peak, rss_kib(srv.pid));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  const double cpu0 = cpu_seconds(srv.pid);
  const auto t0 = Clock::now();
  cl.send("RETR 1\r\n");
  cl.ok();
  const uint64_t got = cl.multiline();
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds(srv.pid) - cpu0;
  done = true;
  sampler.join();
  cl.send("QUIT\r\n");
  cl.ok();
  if (got != big.size()) die("large RETR: " + std::to_string(got) + " octets of " + std::to_string(big.size()));
  std::printf("\n50 MiB RETR: %.2f s, %.0f MB/s, Tern CPU %.2f s; server RSS %ld KiB before, peak %ld KiB "
              "(+%ld KiB)\n", wall, static_cast<double>(got) / 1e6 / wall, cpu, before, peak, peak - before);
}

}  // namespace

int main(int argc, char** argv) {
  std::string tern = TERN_BINARY_DIR "/src/cli/tern";
  std::string mbox;
  int sessions = 100;
  int per_box = 100;
  bool auth_cache = true;
  for (int i = 1; i < argc; i += 2) {
    std::string_view a = argv[i];
    if (a == "--no-auth-cache") {
      auth_cache = false;
      --i;
      continue;
    }
    if (i + 1 >= argc) die("usage: pop3_retr [--tern PATH] [--mbox FILE] [--sessions N] [--messages N] [--no-auth-cache]");
    if (a == "--tern") tern = argv[i + 1];
    else if (a == "--mbox") mbox = argv[i + 1];
    else if (a == "--sessions") sessions = std::atoi(argv[i + 1]);
    else if (a == "--messages") per_box = std::atoi(argv[i + 1]);
    else die("usage: pop3_retr [--tern PATH] [--mbox FILE] [--sessions N] [--messages N] [--no-auth-cache]");
  }
  ::signal(SIGPIPE, SIG_IGN);

  std::string dir = (std::filesystem::temp_directory_path() / "tern-pop3-bench-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) die("mkdtemp");
  if (mbox.empty()) {
    mbox = dir + "/gen.mbox";
    const std::string gen =
        (std::filesystem::path(TERN_SOURCE_DIR).parent_path() / "shared/corpus/gen_mbox.py").string();
    const std::string cmd = "/usr/bin/python3 " + gen + " " + mbox + " " + std::to_string(per_box) + " 42 > /dev/null";
    if (std::system(cmd.c_str()) != 0) die("could not run " + gen);
  }
  std::ifstream in(mbox, std::ios::binary);
  std::vector<std::string> corpus = split_mbox(std::string((std::istreambuf_iterator<char>(in)), {}));
  if (corpus.size() > static_cast<std::size_t>(per_box)) corpus.resize(static_cast<std::size_t>(per_box));
  if (corpus.empty()) die("no messages in " + mbox);

  // Fill the store: every message once, in the INBOX of each account.
  uint64_t box_bytes = 0;
  {
    auto opened = tern::store::open_sqlite_store({dir + "/tern.db", 2}, nullptr);
    if (!opened) die(opened.error().to_string());
    auto& store = **opened;
    if (!store.add_domain("bench.test")) die("add_domain");
    const std::string hash = tern::auth::hash_password(kPassword).value();
    std::vector<tern::store::AppendTarget> targets;
    for (int a = 1; a <= kAccounts; ++a) {
      auto acc = store.add_account("bench" + std::to_string(a) + "@bench.test", hash);
      if (!acc) die(acc.error().to_string());
      targets.push_back({(*store.find_mailbox(acc->id, "INBOX"))->id, 0, {}});
    }
    for (const std::string& m : corpus) {
      const std::string bytes = crlf(m);
      box_bytes += bytes.size();
      if (!store.append(bytes, 1700000000, targets)) die("append");
    }
  }
  const std::string config = dir + "/tern.toml";
  {
    std::ofstream cfg(config);
    cfg << "hostname = \"bench.test\"\ndata_dir = \"" << dir << "\"\n"
        << "[log]\nlevel = \"warn\"\n[auth]\nallow_plaintext = true\n"
        << (auth_cache ? "" : "cache_ttl = 0\n")
        << "[[listener]]\nprotocol = \"pop3\"\naddress = \"127.0.0.1\"\nport = 0\ntls = \"none\"\n"
        << "[[listener]]\nprotocol = \"pop3\"\naddress = \"127.0.0.1\"\nport = 0\ntls = \"implicit\"\n";
  }
  const Server srv = start_server(tern, config);
  SSL_CTX* tls = SSL_CTX_new(TLS_client_method());

  std::printf("pop3_retr: %zu messages per INBOX (%.1f MB, mean %.1f KB), %d sessions per case, tern pid %d, %u cores, auth cache %s\n",
              corpus.size(), static_cast<double>(box_bytes) / 1e6,
              static_cast<double>(box_bytes) / 1e3 / static_cast<double>(corpus.size()), sessions, srv.pid,
              std::thread::hardware_concurrency(), auth_cache ? "on (warm)" : "off (yescrypt per login)");
  const std::vector<Case> cases = {
      {"1 client", 1, false, false, false},
      {"10 clients", 10, false, false, false},
      {"1 client, pipelined RETR", 1, true, false, false},
      {"10 clients, pipelined RETR", 10, true, false, false},
      {"1 client, TLS", 1, false, true, false},
      {"10 clients, pipelined RETR, TLS", 10, true, true, false},
      {"login + QUIT only, 10 clients", 10, false, false, true},
  };
  std::printf("\n| case | sessions | messages | MB | wall s | messages/s | MB/s | Tern CPU s | messages per Tern CPU-s | Tern CPU us/message |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  double login_cpu = 0;
  std::vector<std::pair<const Case*, Figures>> results;
  for (const Case& c : cases) {
    (void)run_case(c, srv, tls, c.clients);  // warm-up: caches, connections
    Figures f = run_case(c, srv, tls, sessions);
    results.emplace_back(&c, f);
    const double mb = static_cast<double>(f.bytes) / 1e6;
    if (c.login_only) {
      login_cpu = f.cpu / static_cast<double>(f.sessions);
      std::printf("| %s | %llu | - | - | %.2f | - | - | %.2f | - | %.1f ms per login |\n", c.name,
                  static_cast<unsigned long long>(f.sessions), f.wall, f.cpu, login_cpu * 1e3);
      continue;
    }
    const double msgs = static_cast<double>(f.messages);
    std::printf("| %s | %llu | %llu | %.1f | %.2f | %.0f | %.1f | %.2f | %.0f | %.0f |\n", c.name,
                static_cast<unsigned long long>(f.sessions), static_cast<unsigned long long>(f.messages), mb, f.wall,
                msgs / f.wall, mb / f.wall, f.cpu, f.cpu > 0 ? msgs / f.cpu : 0.0, f.cpu * 1e6 / msgs);
  }
  std::printf("\nWithout the login (%s, %.1f ms of Tern CPU per login):\n",
              auth_cache ? "auth cache hit" : "yescrypt", login_cpu * 1e3);
  for (const auto& [c, f] : results) {
    if (c->login_only) continue;
    const double cpu = f.cpu - login_cpu * static_cast<double>(f.sessions);
    std::printf("  %-34s %.0f messages per Tern CPU-s, %.0f us/message\n", c->name,
                cpu > 0 ? static_cast<double>(f.messages) / cpu : 0.0, cpu * 1e6 / static_cast<double>(f.messages));
  }
  large_retr(srv, dir, tern::auth::hash_password(kPassword).value());
  SSL_CTX_free(tls);
  kill(srv.pid, SIGTERM);
  int status = 0;
  waitpid(srv.pid, &status, 0);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
