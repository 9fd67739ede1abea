// config/config.cc: TOML -> Config with defaults and validation (see config.h).
//
// toml++ does the parsing (it reports syntax errors by throwing toml::parse_error, which
// is caught here: config loading is the one place exceptions are allowed). The walk over
// the parsed tree is ours: every key is looked up in a fixed list, so unknown keys,
// wrong types and bad values all come back as "origin:line: message" errors. All errors
// of a file are collected and reported together, ordered by line.
#include "config/config.h"

#include <arpa/inet.h>

#include <cctype>
#include <algorithm>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include <toml++/toml.h>

#include "base/limits.h"
#include "base/strings.h"

namespace tern::config {

std::string_view to_string(Protocol p) {
  switch (p) {
    case Protocol::kSmtp: return "smtp";
    case Protocol::kSubmission: return "submission";
    case Protocol::kImap: return "imap";
    case Protocol::kPop3: return "pop3";
  }
  return "unknown";
}

std::string_view to_string(TlsMode m) {
  switch (m) {
    case TlsMode::kNone: return "none";
    case TlsMode::kStartTls: return "starttls";
    case TlsMode::kImplicit: return "implicit";
  }
  return "unknown";
}

std::vector<Listener> default_listeners() {
  auto make = [](Protocol p, uint16_t port, TlsMode tls) {
    Listener l;
    l.protocol = p;
    l.address = "0.0.0.0";
    l.port = port;
    l.tls = tls;
    return l;
  };
  return {
      make(Protocol::kSmtp, 2525, TlsMode::kStartTls),
      make(Protocol::kSubmission, 2587, TlsMode::kStartTls),
      make(Protocol::kSubmission, 2465, TlsMode::kImplicit),
      make(Protocol::kImap, 2143, TlsMode::kStartTls),
      make(Protocol::kImap, 2993, TlsMode::kImplicit),
      make(Protocol::kPop3, 2110, TlsMode::kStartTls),
      make(Protocol::kPop3, 2995, TlsMode::kImplicit),
  };
}

Config defaults() {
  Config c;
  c.listeners = default_listeners();
  return c;
}

namespace {

// Upper bounds for values base/limits.h does not cover; generous, they only catch typos.
constexpr int64_t kMaxThreads = 1024;
constexpr int64_t kMaxConnections = 1'000'000;
constexpr int64_t kMaxErrors = 1000;
constexpr int64_t kMaxTimeoutSeconds = 7 * 24 * 3600;
constexpr int64_t kMaxThrottleFailures = 1'000'000;
constexpr int64_t kMaxThrottleDelayMs = 30'000;
constexpr int64_t kMaxPoolSize = 1000;
// Below this a command line cannot hold an SMTP text line (RFC 5321 4.5.3.1.6).
constexpr int64_t kMinLineLength = 1000;

bool valid_hostname(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  for (std::string_view label : split(h, '.')) {
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-';
      if (!ok) return false;
    }
  }
  return true;
}

bool valid_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// "addr" or "addr/prefix" with a prefix within the address's width, no leading zeros.
bool valid_cidr(const std::string& s) {
  auto slash = s.find('/');
  std::string addr = s.substr(0, slash);
  unsigned char buf[16];
  int width = 0;
  if (inet_pton(AF_INET, addr.c_str(), buf) == 1) width = 32;
  else if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) width = 128;
  else return false;
  if (slash == std::string::npos) return true;
  std::string p = s.substr(slash + 1);
  if (p.empty() || p.size() > 3 || (p.size() > 1 && p[0] == '0')) return false;
  int v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  return v <= width;
}

// A name server for MX lookups: "address", "address:port" or "[v6 address]:port".
bool valid_name_server(const std::string& s) {
  std::string host = s;
  std::optional<std::string> port;
  if (!s.empty() && s.front() == '[') {
    const std::size_t close = s.find(']');
    if (close == std::string::npos) return false;
    host = s.substr(1, close - 1);
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':') return false;
      port = s.substr(close + 2);
    }
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    host = s.substr(0, s.find(':'));
    port = s.substr(s.find(':') + 1);
  }
  if (!valid_ip(host)) return false;
  if (!port) return true;
  if (port->empty() || port->size() > 5) return false;
  if (!std::all_of(port->begin(), port->end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  const int v = std::stoi(*port);
  return v >= 1 && v <= 65535;
}

// Walks the parsed document, filling a Config and collecting errors.
class Loader {
 public:
  explicit Loader(std::string_view origin) : origin_(origin) {}

  Result<Config> load(const toml::table& root) {
    Config c = defaults();
    c.listeners.clear();
    table(root, "", {
        {"hostname", [&](const toml::node& n, const std::string& k) {
           if (string(n, k, c.hostname) && !valid_hostname(c.hostname))
             error(n, "{}: expected a DNS host name", k);
         }},
        {"data_dir", [&](const toml::node& n, const std::string& k) {
           if (string(n, k, c.data_dir) && c.data_dir.empty())
             error(n, "{}: expected a non-empty path", k);
         }},
        {"threads", [&](const toml::node& n, const std::string& k) {
           integer(n, k, 0, kMaxThreads, c.threads);
         }},
        {"log", [&](const toml::node& n, const std::string& k) { log(n, k, c.log); }},
        {"tls", [&](const toml::node& n, const std::string& k) { tls(n, k, c.tls); }},
        {"limits", [&](const toml::node& n, const std::string& k) { limits(n, k, c.limits); }},
        {"timeouts", [&](const toml::node& n, const std::string& k) {
           timeouts(n, k, c.timeouts);
         }},
        {"auth", [&](const toml::node& n, const std::string& k) { auth(n, k, c.auth); }},
        {"smtp", [&](const toml::node& n, const std::string& k) { smtp(n, k, c.smtp); }},
        {"store", [&](const toml::node& n, const std::string& k) { store(n, k, c.store); }},
        {"queue", [&](const toml::node& n, const std::string& k) { queue(n, k, c.queue); }},
        {"route", [&](const toml::node& n, const std::string& k) { routes(n, k, c.routes); }},
        {"listener", [&](const toml::node& n, const std::string& k) {
           listeners(n, k, c.listeners);
         }},
        {"proxy_trusted", [&](const toml::node& n, const std::string& k) {
           proxy_trusted(n, k, c.proxy_trusted);
         }},
    });
    if (!root.contains("listener")) c.listeners = default_listeners();
    if (c.proxy_trusted.empty()) {
      for (std::size_t i = 0; i < c.listeners.size(); ++i) {
        if (c.listeners[i].proxy_protocol) {
          const toml::node* at = root.get("listener");
          error_at(at ? at->source().begin.line : 0,
                   "listener[{}]: proxy_protocol needs proxy_trusted, the load balancers "
                   "allowed to send PROXY headers", i);
        }
      }
    }
    if (!errors_.empty()) {
      std::stable_sort(errors_.begin(), errors_.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      std::string msg;
      for (const auto& [line, text] : errors_) {
        if (!msg.empty()) msg += '\n';
        msg += text;
      }
      return make_error(ErrorCode::kInvalid, std::move(msg));
    }
    return c;
  }

 private:
  using Handler = std::function<void(const toml::node&, const std::string&)>;

  template <typename... Args>
  void error_at(uint32_t line, fmt::format_string<Args...> f, Args&&... args) {
    errors_.emplace_back(line, fmt::format("{}:{}: {}", origin_, line,
                                           fmt::format(f, std::forward<Args>(args)...)));
  }
  template <typename... Args>
  void error(const toml::node& n, fmt::format_string<Args...> f, Args&&... args) {
    error_at(n.source().begin.line, f, std::forward<Args>(args)...);
  }

  static std::string join(const std::string& prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : prefix + "." + std::string(key);
  }

  // Dispatches each key of `t` to its handler; unknown keys are errors.
  void table(const toml::node& n, const std::string& path,
             const std::vector<std::pair<std::string_view, Handler>>& handlers) {
    const toml::table* t = n.as_table();
    if (!t) {
      error(n, "{}: expected a table", path);
      return;
    }
    for (auto&& [key, value] : *t) {
      std::string_view name = key.str();  // clang 14 cannot capture structured bindings
      std::string full = join(path, name);
      auto it = std::find_if(handlers.begin(), handlers.end(),
                             [&](const auto& h) { return h.first == name; });
      if (it == handlers.end()) {
        error_at(key.source().begin.line, "unknown key '{}'", full);
        continue;
      }
      it->second(value, full);
    }
  }

  bool string(const toml::node& n, const std::string& key, std::string& out) {
    const auto* v = n.as_string();
    if (!v) {
      error(n, "{}: expected a string", key);
      return false;
    }
    out = v->get();
    return true;
  }

  template <typename T>
  bool integer(const toml::node& n, const std::string& key, int64_t min, int64_t max, T& out) {
    const auto* v = n.as_integer();
    if (!v) {
      error(n, "{}: expected a {} integer", key, min > 0 ? "positive" : "non-negative");
      return false;
    }
    if (v->get() < min || v->get() > max) {
      error(n, "{}: expected an integer from {} to {}, not {}", key, min, max, v->get());
      return false;
    }
    out = static_cast<T>(v->get());
    return true;
  }

  bool boolean(const toml::node& n, const std::string& key, bool& out) {
    const auto* v = n.as_boolean();
    if (!v) {
      error(n, "{}: expected true or false", key);
      return false;
    }
    out = v->get();
    return true;
  }

  void seconds(const toml::node& n, const std::string& key, int64_t min,
               std::chrono::seconds& out) {
    int64_t s = 0;
    if (integer(n, key, min, kMaxTimeoutSeconds, s)) out = std::chrono::seconds(s);
  }

  bool one_of(const toml::node& n, const std::string& key,
              std::initializer_list<std::string_view> choices, std::string& out) {
    std::string s;
    if (!string(n, key, s)) return false;
    if (std::find(choices.begin(), choices.end(), s) == choices.end()) {
      std::string list;
      for (auto c : choices) list += (list.empty() ? "" : "|") + std::string(c);
      error(n, "{}: expected one of {}, not '{}'", key, list, s);
      return false;
    }
    out = s;
    return true;
  }

  void log(const toml::node& n, const std::string& path, Log& out) {
    table(n, path, {
        {"level", [&](const toml::node& v, const std::string& k) {
           one_of(v, k, {"trace", "debug", "info", "warn", "error", "off"}, out.level);
         }},
        {"format", [&](const toml::node& v, const std::string& k) {
           one_of(v, k, {"text", "json"}, out.format);
         }},
    });
  }

  void tls(const toml::node& n, const std::string& path, Tls& out) {
    table(n, path, {
        {"cert", [&](const toml::node& v, const std::string& k) { string(v, k, out.cert_file); }},
        {"key", [&](const toml::node& v, const std::string& k) { string(v, k, out.key_file); }},
    });
    if (out.cert_file.empty() != out.key_file.empty())
      error(n, "{}: cert and key must be given together", path);
  }

  void limits(const toml::node& n, const std::string& path, Limits& out) {
    table(n, path, {
        {"max_line_length", [&](const toml::node& v, const std::string& k) {
           integer(v, k, kMinLineLength, static_cast<int64_t>(tern::limits::kMaxLineLength),
                   out.max_line_length);
         }},
        {"max_message_size", [&](const toml::node& v, const std::string& k) {
           integer(v, k, 1, static_cast<int64_t>(tern::limits::kMaxMessageSize),
                   out.max_message_size);
         }},
        {"max_connections", [&](const toml::node& v, const std::string& k) {
           integer(v, k, 1, kMaxConnections, out.max_connections);
         }},
        {"max_connections_per_ip", [&](const toml::node& v, const std::string& k) {
           integer(v, k, 1, kMaxConnections, out.max_connections_per_ip);
         }},
        {"max_errors", [&](const toml::node& v, const std::string& k) {
           integer(v, k, 1, kMaxErrors, out.max_errors);
         }},
    });
  }

  void timeouts(const toml::node& n, const std::string& path, Timeouts& out) {
    table(n, path, {
        {"pre_auth", [&](const toml::node& v, const std::string& k) {
           seconds(v, k, 1, out.pre_auth);
         }},
        {"post_auth", [&](const toml::node& v, const std::string& k) {
           seconds(v, k, 1, out.post_auth);
         }},
        {"pop3", [&](const toml::node& v, const std::string& k) { seconds(v, k, 1, out.pop3); }},
        {"smtp", [&](const toml::node& v, const std::string& k) { seconds(v, k, 1, out.smtp); }},
        {"smtp_data", [&](const toml::node& v, const std::string& k) {
           seconds(v, k, 1, out.smtp_data);
         }},
        {"shutdown", [&](const toml::node& v, const std::string& k) {
           seconds(v, k, 0, out.shutdown);
         }},
    });
  }

  void smtp(const toml::node& n, const std::string& path, Smtp& out) {
    table(n, path, {
        {"max_command_line", [&](const toml::node& v, const std::string& k) {
           integer(v, k, 512, 65536, out.max_command_line);
         }},
        {"max_text_line", [&](const toml::node& v, const std::string& k) {
           integer(v, k, 1000, 1 << 20, out.max_text_line);
         }},
        {"max_hops", [&](const toml::node& v, const std::string& k) {
           integer(v, k, 1, 1000, out.max_hops);
         }},
        {"max_recipients", [&](const toml::node& v, const std::string& k) {
           integer(v, k, 1, 100000, out.max_recipients);
         }},
        {"max_errors", [&](const toml::node& v, const std::string& k) {
           integer(v, k, 1, kMaxErrors, out.max_errors);
         }},
        {"bare_lf", [&](const toml::node& v, const std::string& k) {
           std::string s;
           if (one_of(v, k, {"normalize", "reject"}, s))
             out.bare_lf = s == "reject" ? BareLf::kReject : BareLf::kNormalize;
         }},
        {"recipient_delimiter", [&](const toml::node& v, const std::string& k) {
           if (string(v, k, out.recipient_delimiter) &&
               (out.recipient_delimiter.size() > 1 ||
                out.recipient_delimiter.find_first_of("@\"\\ ") != std::string::npos))
             error(v, "{}: expected one character other than @, quote, backslash or space, or \"\"", k);
         }},
        {"postmaster", [&](const toml::node& v, const std::string& k) {
           if (string(v, k, out.postmaster) && !out.postmaster.empty() &&
               out.postmaster.find('@') == std::string::npos)
             error(v, "{}: expected an address local@domain", k);
         }},
    });
  }

  void auth(const toml::node& n, const std::string& path, Auth& out) {
    table(n, path, {
        {"allow_plaintext", [&](const toml::node& v, const std::string& k) {
           boolean(v, k, out.allow_plaintext);
         }},
        {"throttle_free_failures", [&](const toml::node& v, const std::string& k) {
           integer(v, k, 0, kMaxThrottleFailures, out.throttle_free_failures);
         }},
        {"throttle_base_delay_ms", [&](const toml::node& v, const std::string& k) {
           int64_t ms = 0;
           if (integer(v, k, 0, kMaxThrottleDelayMs, ms))
             out.throttle_base_delay = std::chrono::milliseconds(ms);
         }},
        {"throttle_lockout_failures", [&](const toml::node& v, const std::string& k) {
           integer(v, k, 1, kMaxThrottleFailures, out.throttle_lockout_failures);
         }},
        {"throttle_window", [&](const toml::node& v, const std::string& k) {
           seconds(v, k, 1, out.throttle_window);
         }},
        {"cache_ttl", [&](const toml::node& v, const std::string& k) {
           seconds(v, k, 0, out.cache_ttl);
         }},
        {"cache_size", [&](const toml::node& v, const std::string& k) {
           integer(v, k, 1, 10'000'000, out.cache_size);
         }},
    });
  }

  void store(const toml::node& n, const std::string& path, Store& out) {
    table(n, path, {
        {"backend", [&](const toml::node& v, const std::string& k) {
           one_of(v, k, {"sqlite", "postgres"}, out.backend);
         }},
        {"postgres", [&](const toml::node& v, const std::string& k) {
           table(v, k, {
               {"url", [&](const toml::node& u, const std::string& uk) {
                  string(u, uk, out.postgres.url);
                }},
               {"pool_size", [&](const toml::node& u, const std::string& uk) {
                  integer(u, uk, 1, kMaxPoolSize, out.postgres.pool_size);
                }},
           });
         }},
    });
    if (out.backend == "postgres" && out.postgres.url.empty())
      error(n, "{}: backend \"postgres\" needs store.postgres.url", path);
  }

  void queue(const toml::node& n, const std::string& path, Queue& out) {
    table(n, path, {
        {"enabled", [&](const toml::node& v, const std::string& k) { boolean(v, k, out.enabled); }},
        {"retry_base", [&](const toml::node& v, const std::string& k) { seconds(v, k, 1, out.retry_base); }},
        {"retry_max", [&](const toml::node& v, const std::string& k) { seconds(v, k, 1, out.retry_max); }},
        {"max_age", [&](const toml::node& v, const std::string& k) {
           int64_t s = 0;
           if (integer(v, k, 0, int64_t{365} * 86400, s)) out.max_age = std::chrono::seconds(s);
         }},
        {"interval", [&](const toml::node& v, const std::string& k) { seconds(v, k, 1, out.interval); }},
        {"lease", [&](const toml::node& v, const std::string& k) { seconds(v, k, 1, out.lease); }},
        {"dns_servers", [&](const toml::node& v, const std::string& k) { dns_servers(v, k, out.dns_servers); }},
        {"smtp_port", [&](const toml::node& v, const std::string& k) { integer(v, k, 1, 65535, out.smtp_port); }},
    });
  }

  // An array of strings (`plural` names them in an error), each checked by `valid` (`one`
  // names a good one in an error).
  void string_array(const toml::node& n, const std::string& key, std::string_view plural, std::string_view one,
                    const std::function<bool(const std::string&)>& valid, std::vector<std::string>& out) {
    const toml::array* arr = n.as_array();
    if (!arr) {
      error(n, "{}: expected an array of {}", key, plural);
      return;
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::node& item = *arr->get(i);
      std::string k = fmt::format("{}[{}]", key, i);
      std::string s;
      if (!string(item, k, s)) continue;
      if (!valid(s)) {
        error(item, "{}: expected {}, not '{}'", k, one, s);
        continue;
      }
      out.push_back(std::move(s));
    }
  }

  void dns_servers(const toml::node& n, const std::string& key, std::vector<std::string>& out) {
    string_array(n, key, "name server addresses", "an IP address, optionally with :port ([v6]:port)",
                 valid_name_server, out);
  }

  void routes(const toml::node& n, const std::string& path, std::vector<Route>& out) {
    const toml::array* arr = n.as_array();
    if (!arr) {
      error(n, "{}: expected [[route]] tables", path);
      return;
    }
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::node& item = *arr->get(i);
      std::string key = fmt::format("{}[{}]", path, i);
      Route r;
      table(item, key, {
          {"domain", [&](const toml::node& v, const std::string& k) {
             if (string(v, k, r.domain)) {
               for (char& ch : r.domain) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
             }
           }},
          {"host", [&](const toml::node& v, const std::string& k) { string(v, k, r.host); }},
          {"port", [&](const toml::node& v, const std::string& k) { integer(v, k, 1, 65535, r.port); }},
      });
      if (r.domain.empty() || r.host.empty()) error(item, "{}: a route needs a domain and a host", key);
      out.push_back(std::move(r));
    }
  }

  void proxy_trusted(const toml::node& n, const std::string& key, std::vector<std::string>& out) {
    string_array(n, key, "CIDR ranges", "an IP address or CIDR range like \"10.0.0.0/8\"", valid_cidr, out);
  }

  void listeners(const toml::node& n, const std::string& path, std::vector<Listener>& out) {
    const toml::array* arr = n.as_array();
    if (!arr || arr->empty()) {
      error(n, "{}: expected one or more [[listener]] tables", path);
      return;
    }
    std::set<std::pair<std::string, uint16_t>> seen;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::node& item = *arr->get(i);
      std::string key = fmt::format("{}[{}]", path, i);
      Listener l;
      bool has_protocol = false;
      bool has_port = false;
      table(item, key, {
          {"protocol", [&](const toml::node& v, const std::string& k) {
             std::string s;
             one_of(v, k, {"smtp", "submission", "imap", "pop3"}, s);
             has_protocol = true;
             if (s == "smtp") l.protocol = Protocol::kSmtp;
             else if (s == "submission") l.protocol = Protocol::kSubmission;
             else if (s == "imap") l.protocol = Protocol::kImap;
             else if (s == "pop3") l.protocol = Protocol::kPop3;
           }},
          {"address", [&](const toml::node& v, const std::string& k) {
             if (string(v, k, l.address) && !valid_ip(l.address))
               error(v, "{}: expected an IPv4 or IPv6 address, not '{}'", k, l.address);
           }},
          {"port", [&](const toml::node& v, const std::string& k) {
             has_port = true;
             integer(v, k, 0, 65535, l.port);
           }},
          {"tls", [&](const toml::node& v, const std::string& k) {
             std::string s;
             one_of(v, k, {"none", "starttls", "implicit"}, s);
             if (s == "none") l.tls = TlsMode::kNone;
             else if (s == "starttls") l.tls = TlsMode::kStartTls;
             else if (s == "implicit") l.tls = TlsMode::kImplicit;
           }},
          {"proxy_protocol", [&](const toml::node& v, const std::string& k) {
             boolean(v, k, l.proxy_protocol);
           }},
      });
      if (!item.is_table()) continue;
      if (!has_protocol) error(item, "{}: missing key 'protocol'", key);
      if (!has_port) error(item, "{}: missing key 'port'", key);
      // Port 0 asks for an ephemeral port, so several such listeners never collide.
      if (has_port && l.port != 0 && !seen.emplace(l.address, l.port).second)
        error(item, "{}: duplicate listener on {} port {}", key, l.address, l.port);
      out.push_back(std::move(l));
    }
  }

  std::string origin_;
  std::vector<std::pair<uint32_t, std::string>> errors_;
};

// One "key = value" line, quoted and escaped by toml++.
template <typename T>
std::string kv(std::string_view key, T&& value) {
  toml::table t;
  t.insert(key, std::forward<T>(value));
  std::ostringstream out;
  out << toml::toml_formatter{t};
  return out.str() + "\n";
}

int64_t i64(uint64_t v) { return static_cast<int64_t>(v); }

}  // namespace

Result<Config> load_string(std::string_view toml_text, std::string_view origin) {
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    return make_error(ErrorCode::kInvalid, "{}:{}: {}", origin, e.source().begin.line,
                      e.description());
  }
  return Loader(origin).load(root);
}

Result<Config> load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kNotFound, "{}: cannot open the configuration file", path);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return make_error(ErrorCode::kIo, "{}: read error", path);
  return load_string(buf.str(), path);
}

std::string to_toml(const Config& c) {
  std::string out;
  out += kv("hostname", c.hostname);
  out += kv("data_dir", c.data_dir);
  out += kv("threads", i64(c.threads));
  {
    toml::array trusted;
    for (const std::string& t : c.proxy_trusted) trusted.push_back(t);
    out += kv("proxy_trusted", std::move(trusted));
  }

  out += "\n[log]\n";
  out += kv("level", c.log.level);
  out += kv("format", c.log.format);

  out += "\n[tls]\n";
  out += kv("cert", c.tls.cert_file);
  out += kv("key", c.tls.key_file);

  out += "\n[limits]\n";
  out += kv("max_line_length", i64(c.limits.max_line_length));
  out += kv("max_message_size", i64(c.limits.max_message_size));
  out += kv("max_connections", i64(c.limits.max_connections));
  out += kv("max_connections_per_ip", i64(c.limits.max_connections_per_ip));
  out += kv("max_errors", i64(c.limits.max_errors));

  out += "\n[timeouts]\n";
  out += kv("pre_auth", i64(c.timeouts.pre_auth.count()));
  out += kv("post_auth", i64(c.timeouts.post_auth.count()));
  out += kv("pop3", i64(c.timeouts.pop3.count()));
  out += kv("smtp", i64(c.timeouts.smtp.count()));
  out += kv("smtp_data", i64(c.timeouts.smtp_data.count()));
  out += kv("shutdown", i64(c.timeouts.shutdown.count()));

  out += "\n[auth]\n";
  out += kv("allow_plaintext", c.auth.allow_plaintext);
  out += kv("throttle_free_failures", i64(c.auth.throttle_free_failures));
  out += kv("throttle_base_delay_ms", i64(c.auth.throttle_base_delay.count()));
  out += kv("throttle_lockout_failures", i64(c.auth.throttle_lockout_failures));
  out += kv("throttle_window", i64(c.auth.throttle_window.count()));
  out += kv("cache_ttl", i64(c.auth.cache_ttl.count()));
  out += kv("cache_size", i64(c.auth.cache_size));

  out += "\n[smtp]\n";
  out += kv("max_command_line", i64(c.smtp.max_command_line));
  out += kv("max_text_line", i64(c.smtp.max_text_line));
  out += kv("max_recipients", i64(c.smtp.max_recipients));
  out += kv("max_hops", i64(c.smtp.max_hops));
  out += kv("max_errors", i64(c.smtp.max_errors));
  out += kv("bare_lf", std::string(c.smtp.bare_lf == BareLf::kReject ? "reject" : "normalize"));
  out += kv("recipient_delimiter", c.smtp.recipient_delimiter);
  out += kv("postmaster", c.smtp.postmaster);

  out += "\n[queue]\n";
  out += kv("enabled", c.queue.enabled);
  out += kv("retry_base", i64(c.queue.retry_base.count()));
  out += kv("retry_max", i64(c.queue.retry_max.count()));
  out += kv("max_age", i64(c.queue.max_age.count()));
  out += kv("interval", i64(c.queue.interval.count()));
  out += kv("lease", i64(c.queue.lease.count()));
  {
    toml::array servers;
    for (const std::string& d : c.queue.dns_servers) servers.push_back(d);
    out += kv("dns_servers", std::move(servers));
  }
  out += kv("smtp_port", i64(c.queue.smtp_port));
  for (const Route& r : c.routes) {
    out += "\n[[route]]\n";
    out += kv("domain", r.domain);
    out += kv("host", r.host);
    out += kv("port", i64(r.port));
  }

  out += "\n[store]\n";
  out += kv("backend", c.store.backend);
  out += "\n[store.postgres]\n";
  out += kv("url", c.store.postgres.url);
  out += kv("pool_size", i64(c.store.postgres.pool_size));

  for (const Listener& l : c.listeners) {
    out += "\n[[listener]]\n";
    out += kv("protocol", std::string(to_string(l.protocol)));
    out += kv("address", l.address);
    out += kv("port", i64(l.port));
    out += kv("tls", std::string(to_string(l.tls)));
    out += kv("proxy_protocol", l.proxy_protocol);
  }
  return out;
}

}  // namespace tern::config
