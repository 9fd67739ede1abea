#include "config/config.h"

#include <gtest/gtest.h>

#include <string>

namespace tern::config {
namespace {

Config load_ok(std::string_view text) {
  auto c = load_string(text, "tern.toml");
  EXPECT_TRUE(c.has_value()) << (c ? "" : c.error().message);
  return c ? *c : Config{};
}

std::string load_error(std::string_view text) {
  auto c = load_string(text, "tern.toml");
  EXPECT_FALSE(c.has_value()) << "accepted:\n" << text;
  if (c) return "";
  EXPECT_EQ(c.error().code, ErrorCode::kInvalid);
  return c.error().message;
}

TEST(ConfigTest, EmptyFileGivesDefaults) {
  Config c = load_ok("");
  EXPECT_EQ(c.hostname, "localhost");
  EXPECT_EQ(c.data_dir, "./var");
  EXPECT_EQ(c.threads, 0u);
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.log.format, "text");
  EXPECT_TRUE(c.tls.cert_file.empty());
  EXPECT_EQ(c.limits.max_line_length, 8192u);
  EXPECT_EQ(c.limits.max_message_size, 50u << 20);
  EXPECT_EQ(c.limits.max_connections, 2000u);
  EXPECT_EQ(c.limits.max_connections_per_ip, 50u);
  EXPECT_EQ(c.limits.max_errors, 10u);
  EXPECT_EQ(c.timeouts.pre_auth, std::chrono::seconds(60));
  EXPECT_EQ(c.timeouts.post_auth, std::chrono::seconds(1800));
  EXPECT_EQ(c.timeouts.pop3, std::chrono::seconds(600));
  EXPECT_EQ(c.timeouts.smtp, std::chrono::seconds(300));
  EXPECT_EQ(c.timeouts.shutdown, std::chrono::seconds(10));
  EXPECT_FALSE(c.auth.allow_plaintext);
  EXPECT_EQ(c.auth.throttle_free_failures, 3u);
  EXPECT_EQ(c.auth.throttle_base_delay, std::chrono::milliseconds(500));
  EXPECT_EQ(c.auth.throttle_lockout_failures, 20u);
  EXPECT_EQ(c.auth.throttle_window, std::chrono::seconds(900));
  EXPECT_EQ(c.auth.cache_ttl, std::chrono::seconds(300));
  EXPECT_EQ(c.auth.cache_size, 10000u);
  EXPECT_EQ(c.store.backend, "sqlite");
  EXPECT_EQ(c.store.postgres.pool_size, 8u);
  EXPECT_EQ(to_toml(c), to_toml(defaults()));
}

TEST(ConfigTest, DefaultListenersCoverEveryProtocol) {
  auto ls = default_listeners();
  ASSERT_EQ(ls.size(), 7u);
  EXPECT_EQ(ls[0].protocol, Protocol::kSmtp);
  EXPECT_EQ(ls[0].port, 2525);
  EXPECT_EQ(ls[0].tls, TlsMode::kStartTls);
  EXPECT_EQ(ls[2].protocol, Protocol::kSubmission);
  EXPECT_EQ(ls[2].port, 2465);
  EXPECT_EQ(ls[2].tls, TlsMode::kImplicit);
  EXPECT_EQ(ls[6].protocol, Protocol::kPop3);
  EXPECT_EQ(ls[6].port, 2995);
  for (const auto& l : ls) EXPECT_EQ(l.address, "0.0.0.0");
  EXPECT_EQ(load_ok("").listeners.size(), 7u);
}

TEST(ConfigTest, EveryKeyParsed) {
  Config c = load_ok(R"(
hostname = "mail.example.org"
data_dir = "/srv/tern"
threads = 4
proxy_trusted = ["10.0.0.0/8", "::1", "192.0.2.7/32"]
[log]
level = "debug"
format = "json"
[tls]
cert = "/etc/tern/cert.pem"
key = "/etc/tern/key.pem"
[limits]
max_line_length = 2000
max_message_size = 1000000
max_connections = 100
max_connections_per_ip = 5
max_errors = 3
[timeouts]
pre_auth = 30
post_auth = 3600
pop3 = 900
smtp = 600
shutdown = 0
[auth]
allow_plaintext = true
throttle_free_failures = 0
throttle_base_delay_ms = 250
throttle_lockout_failures = 7
throttle_window = 60
cache_ttl = 0
cache_size = 50
[store]
backend = "postgres"
[store.postgres]
url = "postgresql://tern@db/tern"
pool_size = 16
[[listener]]
protocol = "imap"
address = "::1"
port = 143
tls = "starttls"
proxy_protocol = true
[[listener]]
protocol = "pop3"
port = 0
)");
  EXPECT_EQ(c.hostname, "mail.example.org");
  EXPECT_EQ(c.data_dir, "/srv/tern");
  EXPECT_EQ(c.threads, 4u);
  EXPECT_EQ(c.proxy_trusted, (std::vector<std::string>{"10.0.0.0/8", "::1", "192.0.2.7/32"}));
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.format, "json");
  EXPECT_EQ(c.tls.cert_file, "/etc/tern/cert.pem");
  EXPECT_EQ(c.tls.key_file, "/etc/tern/key.pem");
  EXPECT_EQ(c.limits.max_line_length, 2000u);
  EXPECT_EQ(c.limits.max_message_size, 1000000u);
  EXPECT_EQ(c.limits.max_connections, 100u);
  EXPECT_EQ(c.limits.max_connections_per_ip, 5u);
  EXPECT_EQ(c.limits.max_errors, 3u);
  EXPECT_EQ(c.timeouts.pre_auth, std::chrono::seconds(30));
  EXPECT_EQ(c.timeouts.post_auth, std::chrono::seconds(3600));
  EXPECT_EQ(c.timeouts.pop3, std::chrono::seconds(900));
  EXPECT_EQ(c.timeouts.smtp, std::chrono::seconds(600));
  EXPECT_EQ(c.timeouts.shutdown, std::chrono::seconds(0));
  EXPECT_TRUE(c.auth.allow_plaintext);
  EXPECT_EQ(c.auth.throttle_free_failures, 0u);
  EXPECT_EQ(c.auth.throttle_base_delay, std::chrono::milliseconds(250));
  EXPECT_EQ(c.auth.throttle_lockout_failures, 7u);
  EXPECT_EQ(c.auth.throttle_window, std::chrono::seconds(60));
  EXPECT_EQ(c.auth.cache_ttl, std::chrono::seconds(0));
  EXPECT_EQ(c.auth.cache_size, 50u);
  EXPECT_EQ(c.store.backend, "postgres");
  EXPECT_EQ(c.store.postgres.url, "postgresql://tern@db/tern");
  EXPECT_EQ(c.store.postgres.pool_size, 16u);
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].protocol, Protocol::kImap);
  EXPECT_EQ(c.listeners[0].address, "::1");
  EXPECT_EQ(c.listeners[0].port, 143);
  EXPECT_EQ(c.listeners[0].tls, TlsMode::kStartTls);
  EXPECT_TRUE(c.listeners[0].proxy_protocol);
  EXPECT_EQ(c.listeners[1].protocol, Protocol::kPop3);
  EXPECT_EQ(c.listeners[1].address, "0.0.0.0");
  EXPECT_EQ(c.listeners[1].port, 0);
  EXPECT_EQ(c.listeners[1].tls, TlsMode::kNone);
  EXPECT_FALSE(c.listeners[1].proxy_protocol);
}

TEST(ConfigTest, UnknownKeyNamesKeyAndLine) {
  EXPECT_EQ(load_error("[limits]\nmax_errors = 3\nmax_lien_length = 10\n"),
            "tern.toml:3: unknown key 'limits.max_lien_length'");
  EXPECT_EQ(load_error("hostnme = \"x\"\n"), "tern.toml:1: unknown key 'hostnme'");
  EXPECT_EQ(load_error("\n[limit]\nmax_errors = 3\n"), "tern.toml:2: unknown key 'limit'");
  EXPECT_EQ(load_error("[store.postgres]\nurl = \"x\"\npool = 1\n"),
            "tern.toml:3: unknown key 'store.postgres.pool'");
  EXPECT_EQ(load_error("[[listener]]\nprotocol = \"smtp\"\nport = 25\ntsl = \"none\"\n"),
            "tern.toml:4: unknown key 'listener[0].tsl'");
}

TEST(ConfigTest, AllErrorsReportedInLineOrder) {
  std::string msg = load_error("threads = -1\n[log]\nlevel = \"loud\"\nbogus = 1\n");
  EXPECT_EQ(msg,
            "tern.toml:1: threads: expected an integer from 0 to 1024, not -1\n"
            "tern.toml:3: log.level: expected one of trace|debug|info|warn|error|off, not 'loud'\n"
            "tern.toml:4: unknown key 'log.bogus'");
}

TEST(ConfigTest, WrongTypes) {
  EXPECT_EQ(load_error("\n\n[limits]\nmax_connections = \"many\"\n"),
            "tern.toml:4: limits.max_connections: expected a positive integer");
  EXPECT_EQ(load_error("hostname = 42\n"), "tern.toml:1: hostname: expected a string");
  EXPECT_EQ(load_error("[auth]\nallow_plaintext = \"yes\"\n"),
            "tern.toml:2: auth.allow_plaintext: expected true or false");
  EXPECT_EQ(load_error("[timeouts]\nsmtp = 1.5\n"),
            "tern.toml:2: timeouts.smtp: expected a positive integer");
  EXPECT_EQ(load_error("log = \"debug\"\n"), "tern.toml:1: log: expected a table");
  EXPECT_EQ(load_error("[listener]\nport = 1\n"),
            "tern.toml:1: listener: expected one or more [[listener]] tables");
}

TEST(ConfigTest, BadValues) {
  EXPECT_NE(load_error("hostname = \"\"\n").find("hostname: expected a DNS host name"),
            std::string::npos);
  load_error("hostname = \"bad_name.example\"\n");
  load_error("hostname = \"-x.example\"\n");
  load_error("hostname = \"a..b\"\n");
  load_error("[limits]\nmax_connections = 0\n");
  load_error("[limits]\nmax_line_length = 65537\n");
  load_error("[limits]\nmax_message_size = 1073741825\n");
  load_error("[timeouts]\npre_auth = 0\n");
  load_error("[log]\nformat = \"xml\"\n");
  load_error("[store]\nbackend = \"mysql\"\n");
  load_error("[tls]\ncert = \"/c.pem\"\n");
  load_error("[[listener]]\nprotocol = \"smtp\"\nport = 65536\n");
  load_error("[[listener]]\nprotocol = \"smtp\"\nport = -1\n");
  load_error("[[listener]]\nprotocol = \"nntp\"\nport = 119\n");
  load_error("[[listener]]\nprotocol = \"smtp\"\nport = 25\ntls = \"always\"\n");
  load_error("[[listener]]\nprotocol = \"smtp\"\nport = 25\naddress = \"example.org\"\n");
  EXPECT_EQ(load_error("[[listener]]\nport = 25\n"),
            "tern.toml:1: listener[0]: missing key 'protocol'");
  EXPECT_EQ(load_error("[store]\nbackend = \"postgres\"\n"),
            "tern.toml:1: store: backend \"postgres\" needs store.postgres.url");
  // The limits themselves are accepted.
  load_ok("[limits]\nmax_line_length = 65536\nmax_message_size = 1073741824\n");
  load_ok("hostname = \"MX-1.Example.ORG\"\n");
}

TEST(ConfigTest, SyntaxErrorReportsLine) {
  std::string msg = load_error("hostname = \"a\"\n\n[limits\n");
  EXPECT_EQ(msg.rfind("tern.toml:3: ", 0), 0u) << msg;
}

TEST(ConfigTest, DuplicateListener) {
  std::string msg = load_error(R"([[listener]]
protocol = "smtp"
port = 25
[[listener]]
protocol = "submission"
port = 25
)");
  EXPECT_EQ(msg, "tern.toml:4: listener[1]: duplicate listener on 0.0.0.0 port 25");
  // Same port on other addresses, and several ephemeral ports, are fine.
  auto c = load_ok(R"([[listener]]
protocol = "smtp"
address = "127.0.0.1"
port = 25
[[listener]]
protocol = "smtp"
address = "::1"
port = 25
[[listener]]
protocol = "imap"
port = 0
[[listener]]
protocol = "pop3"
port = 0
)");
  EXPECT_EQ(c.listeners.size(), 4u);
}

TEST(ConfigTest, TlsModesAllowedForEveryProtocol) {
  for (std::string p : {"smtp", "submission", "imap", "pop3"}) {
    int port = 1000;
    std::string text;
    for (std::string t : {"none", "starttls", "implicit"}) {
      text += "[[listener]]\nprotocol = \"" + p + "\"\nport = " + std::to_string(port++) +
              "\ntls = \"" + t + "\"\n";
    }
    EXPECT_EQ(load_ok(text).listeners.size(), 3u) << p;
  }
}

TEST(ConfigTest, RoundTrip) {
  Config c = defaults();
  c.hostname = "mx.example.net";
  c.data_dir = "/var/lib/tern \"quoted\"\\path";
  c.threads = 3;
  c.log.level = "warn";
  c.tls.cert_file = "/c.pem";
  c.tls.key_file = "/k.pem";
  c.limits.max_errors = 4;
  c.timeouts.shutdown = std::chrono::seconds(0);
  c.auth.allow_plaintext = true;
  c.auth.throttle_base_delay = std::chrono::milliseconds(123);
  c.store.backend = "postgres";
  c.store.postgres.url = "host=db user=tern";
  c.listeners = {Listener{Protocol::kImap, "127.0.0.1", 1143, TlsMode::kImplicit, true}};
  c.proxy_trusted = {"127.0.0.1/32", "fd00::/8"};
  c.queue.enabled = false;
  c.queue.retry_base = std::chrono::seconds(7);
  c.queue.max_age = std::chrono::seconds(0);
  c.queue.dns_servers = {"127.0.0.1:5353", "[::1]:53", "192.0.2.1"};
  c.queue.smtp_port = 2525;
  c.queue.lease = std::chrono::seconds(77);
  c.routes = {Route{"b.test", "127.0.0.1", 2525}, Route{"*", "smart.test", 587}};
  std::string text = to_toml(c);
  Config back = load_ok(text);
  EXPECT_EQ(to_toml(back), text);
  EXPECT_EQ(back.data_dir, c.data_dir);
  ASSERT_EQ(back.listeners.size(), 1u);
  EXPECT_EQ(back.listeners[0].protocol, Protocol::kImap);
  EXPECT_EQ(back.listeners[0].tls, TlsMode::kImplicit);
  EXPECT_TRUE(back.listeners[0].proxy_protocol);
  EXPECT_EQ(back.proxy_trusted, c.proxy_trusted);
  EXPECT_EQ(back.auth.throttle_base_delay, std::chrono::milliseconds(123));
  EXPECT_FALSE(back.queue.enabled);
  EXPECT_EQ(back.queue.retry_base, std::chrono::seconds(7));
  EXPECT_EQ(back.queue.max_age, std::chrono::seconds(0));
  EXPECT_EQ(back.queue.dns_servers, c.queue.dns_servers);
  EXPECT_EQ(back.queue.smtp_port, 2525);
  EXPECT_EQ(back.queue.lease, std::chrono::seconds(77));
  ASSERT_EQ(back.routes.size(), 2u);
  EXPECT_EQ(back.routes[0].domain, "b.test");
  EXPECT_EQ(back.routes[0].port, 2525);
  EXPECT_EQ(back.routes[1].host, "smart.test");

  // The defaults round-trip too, listeners included.
  std::string def = to_toml(defaults());
  EXPECT_NE(def.find("[[listener]]"), std::string::npos);
  EXPECT_EQ(to_toml(load_ok(def)), def);
}

TEST(ConfigTest, RoutesNeedDomainAndHost) {
  Config c = load_ok("[[route]]\ndomain = \"B.Test\"\nhost = \"mx.b.test\"\n");
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].domain, "b.test");
  EXPECT_EQ(c.routes[0].port, 25);
  EXPECT_NE(load_error("[[route]]\ndomain = \"b.test\"\n").find("a route needs a domain and a host"),
            std::string::npos);
}

TEST(ConfigTest, DnsServersMustBeAddresses) {
  auto bad = [](const std::string& v) {
    return load_error("[queue]\ndns_servers = [\"" + v + "\"]\n").find("queue.dns_servers[0]") !=
           std::string::npos;
  };
  EXPECT_TRUE(bad("ns.example.org"));
  EXPECT_TRUE(bad("127.0.0.1:99999"));
  EXPECT_TRUE(bad("127.0.0.1:"));
  EXPECT_TRUE(bad("[::1]x"));
  Config ok = load_ok("[queue]\ndns_servers = [\"::1\", \"[2001:db8::1]:5353\", \"10.0.0.1:53\"]\n");
  EXPECT_EQ(ok.queue.dns_servers.size(), 3u);
}

TEST(ConfigTest, ProxyTrusted) {
  EXPECT_TRUE(load_ok("").proxy_trusted.empty());
  EXPECT_EQ(load_error("proxy_trusted = [\"10.0.0.0/33\"]\n"),
            "tern.toml:1: proxy_trusted[0]: expected an IP address or CIDR range like "
            "\"10.0.0.0/8\", not '10.0.0.0/33'");
  EXPECT_EQ(load_error("proxy_trusted = \"10.0.0.0/8\"\n"),
            "tern.toml:1: proxy_trusted: expected an array of CIDR ranges");
  EXPECT_EQ(load_error("proxy_trusted = [1]\n"), "tern.toml:1: proxy_trusted[0]: expected a string");
  for (const char* bad : {"lb.example", "10.0.0.0/", "::/129", "10.0.0.0/08", "10.0.0.0/8 ",
                          "10.0.0/8", "/8"}) {
    std::string msg = load_error(fmt::format("proxy_trusted = [\"{}\"]\n", bad));
    EXPECT_NE(msg.find("proxy_trusted[0]"), std::string::npos) << bad;
  }
  // A PROXY listener without trusted load balancers would refuse every connection.
  std::string listener = "[[listener]]\nprotocol = \"imap\"\nport = 0\nproxy_protocol = true\n";
  std::string msg = load_error(listener);
  EXPECT_NE(msg.find("listener[0]: proxy_protocol needs proxy_trusted"), std::string::npos) << msg;
  Config c = load_ok("proxy_trusted = [\"127.0.0.1/32\"]\n" + listener);
  EXPECT_TRUE(c.listeners[0].proxy_protocol);
  EXPECT_EQ(c.proxy_trusted, std::vector<std::string>{"127.0.0.1/32"});
}

TEST(ConfigTest, ToStringNames) {
  EXPECT_EQ(to_string(Protocol::kSubmission), "submission");
  EXPECT_EQ(to_string(Protocol::kPop3), "pop3");
  EXPECT_EQ(to_string(TlsMode::kStartTls), "starttls");
  EXPECT_EQ(to_string(TlsMode::kImplicit), "implicit");
}

TEST(ConfigTest, ExampleFileLoadsAndMatchesDefaults) {
  auto c = load_file(TERN_SOURCE_DIR "/etc/tern.toml.example");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(to_toml(*c), to_toml(defaults()));
}

TEST(ConfigTest, ExampleFileDocumentsEveryKey) {
  std::string def = "\n" + to_toml(defaults());
  auto c = load_file(TERN_SOURCE_DIR "/etc/tern.toml.example");
  ASSERT_TRUE(c.has_value());
  // Every key to_toml lists appears in the example file as an active line.
  std::FILE* f = std::fopen(TERN_SOURCE_DIR "/etc/tern.toml.example", "r");
  ASSERT_NE(f, nullptr);
  std::string example;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) example.append(buf, n);
  std::fclose(f);
  for (std::string_view line : {"hostname", "data_dir", "threads", "level", "format", "cert",
                                "key", "max_line_length", "max_message_size", "max_connections",
                                "max_connections_per_ip", "max_errors", "pre_auth", "post_auth",
                                "pop3", "smtp", "shutdown", "allow_plaintext", "throttle_free_failures",
                                "throttle_base_delay_ms", "throttle_lockout_failures",
                                "throttle_window", "backend", "url", "pool_size", "protocol",
                                "address", "port", "tls", "proxy_protocol", "proxy_trusted"}) {
    std::string needle = "\n" + std::string(line) + " = ";
    EXPECT_NE(example.find(needle), std::string::npos) << line;
    EXPECT_NE(def.find(needle), std::string::npos) << line;
  }
}

TEST(ConfigTest, MissingFileIsAnError) {
  auto c = load_file("/nonexistent/tern.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("/nonexistent/tern.toml"), std::string::npos);
}

}  // namespace
}  // namespace tern::config
