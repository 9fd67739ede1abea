// config/config.h: the immutable configuration, loaded from TOML once at start.
//
// load_file()/load_string() parse, apply defaults and validate; any unknown key or bad
// value is an error naming the key (and line where known). The returned Config is a plain
// value: copy it, share it as const across threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace tern::config {

enum class Protocol { kSmtp, kSubmission, kImap, kPop3 };
enum class TlsMode { kNone, kStartTls, kImplicit };

std::string_view to_string(Protocol p);
std::string_view to_string(TlsMode m);

struct Listener {
  Protocol protocol = Protocol::kSmtp;
  std::string address = "0.0.0.0";
  uint16_t port = 0;  // 0: an ephemeral port (tests)
  TlsMode tls = TlsMode::kNone;
  bool proxy_protocol = false;
};

struct Tls {
  // Empty: a self-signed certificate for `hostname` is generated under data_dir/tls/.
  std::string cert_file;
  std::string key_file;
};

struct Limits {
  std::size_t max_line_length = 8192;           // bytes per command line, any protocol
  std::size_t max_message_size = 50ull << 20;   // bytes per message (SMTP SIZE, APPEND)
  uint32_t max_connections = 2000;              // open connections in total
  uint32_t max_connections_per_ip = 50;         // open connections from one client address
  uint32_t max_errors = 10;                     // protocol errors before the session is closed
};

struct Timeouts {
  std::chrono::seconds pre_auth{60};     // idle time allowed before login
  std::chrono::seconds post_auth{1800};  // idle time allowed after login (IMAP IDLE re-arms it)
  std::chrono::seconds pop3{600};        // POP3 idle time after login (RFC 1939 3: at least 10 min)
  std::chrono::seconds smtp{300};        // SMTP command timeout (RFC 5321 4.5.3.2)
  std::chrono::seconds smtp_data{180};   // SMTP: waiting for each block of DATA/BDAT content
  std::chrono::seconds shutdown{10};     // grace time for sessions on SIGTERM
};

struct Log {
  std::string level = "info";  // trace|debug|info|warn|error|off
  std::string format = "text";  // text|json
};

struct Auth {
  bool allow_plaintext = false;          // allow password logins on unencrypted connections
  uint32_t throttle_free_failures = 3;   // failures per IP or account before delays start
  std::chrono::milliseconds throttle_base_delay{500};  // doubled per further failure
  uint32_t throttle_lockout_failures = 20;  // failures before temporary refusal
  std::chrono::seconds throttle_window{900};  // failures are forgotten after this
  std::chrono::seconds cache_ttl{300};  // a verified password is trusted this long; 0: off
  uint32_t cache_size = 10000;          // verified passwords remembered at most
};

// What SMTP does with a bare LF (an LF without CR) in message content.
enum class BareLf { kNormalize, kReject };

struct Smtp {
  std::size_t max_command_line = 512;     // octets with CRLF (RFC 5321 4.5.3.1.4); extensions add theirs
  std::size_t max_text_line = 65536;      // octets per line of message content (RFC 5321 says 1000)
  uint32_t max_recipients = 1000;         // per message; more get 452 4.5.3
  uint32_t max_errors = 20;               // protocol errors before 421 and close
  uint32_t max_hops = 50;                 // Received: fields a message may carry (mail loop)
  BareLf bare_lf = BareLf::kNormalize;    // normalize: store as CRLF; reject: 550 5.6.0
  std::string recipient_delimiter = "+";  // user+tag@domain reaches user; "" turns it off
  std::string postmaster;                 // where postmaster@<local domain> goes when no such
                                          // account or alias exists; "" refuses it
};

// The outbound queue's delivery (queue/scheduler.h).
struct Queue {
  bool enabled = true;                      // `tern serve` delivers queued mail
  std::chrono::seconds retry_base{300};     // wait before the second attempt; doubled after each
  std::chrono::seconds retry_max{3600};     // the wait never grows past this
  std::chrono::seconds max_age{5 * 86400};  // then still-deferred recipients fail
  std::chrono::seconds interval{5};         // how often an idle scheduler looks for due mail
  std::chrono::seconds lease{1800};         // a claimed entry is this node's for this long;
                                            // after it, another node may take it over
  std::vector<std::string> dns_servers;     // "addr" or "addr:port"; empty: /etc/resolv.conf
  uint16_t smtp_port = 25;                  // the port of MX hosts
};

// [[route]]: mail for `domain` ("*": any domain without its own route) goes to host:port.
struct Route {
  std::string domain;
  std::string host;
  uint16_t port = 25;
};

struct Postgres {
  std::string url;
  uint32_t pool_size = 8;
};

struct Store {
  std::string backend = "sqlite";  // sqlite|postgres
  Postgres postgres;
};

struct Config {
  std::string hostname = "localhost";
  std::string data_dir = "./var";
  uint32_t threads = 0;  // I/O threads; 0: one per core
  std::vector<Listener> listeners;  // empty in the file: the defaults (see default_listeners)
  // CIDR ranges ("10.0.0.0/8", "::1/128", or a bare address) of the load balancers allowed
  // to send a PROXY protocol header; required when a listener has proxy_protocol.
  std::vector<std::string> proxy_trusted;
  Tls tls;
  Limits limits;
  Timeouts timeouts;
  Log log;
  Auth auth;
  Smtp smtp;
  Store store;
  Queue queue;
  std::vector<Route> routes;
};

// The listeners used when the file has none: unprivileged ports for every protocol.
std::vector<Listener> default_listeners();

// Parses TOML text. `origin` names the source in error messages (a file path).
Result<Config> load_string(std::string_view toml, std::string_view origin);
// Reads and parses a file. A missing file is an error.
Result<Config> load_file(const std::string& path);
// The built-in defaults, as if from an empty file.
Config defaults();
// The effective configuration as TOML that load_string accepts back.
std::string to_toml(const Config& config);

}  // namespace tern::config
