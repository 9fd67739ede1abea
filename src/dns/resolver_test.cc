// The c-ares resolver against a small DNS server run by the test on loopback UDP, so the
// Asio integration (socket watches, timers) is exercised for real.
#include "dns/resolver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/use_future.hpp>

namespace tern::dns {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;

// Answers queries from a table: name -> MX records or A addresses; names under "nx.test"
// get NXDOMAIN, names under "silent.test" no answer at all, anything else NODATA.
class FakeDns {
 public:
  FakeDns() : socket_(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeDns() {
    // A blocking receive does not end when its socket is closed: wake it with a datagram.
    stop_ = true;
    boost::system::error_code ec;
    udp::socket poke(io_, udp::v4());
    poke.send_to(asio::buffer("x", 1), socket_.local_endpoint(), 0, ec);
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(socket_.local_endpoint().port()); }

  std::map<std::string, std::vector<std::pair<uint16_t, std::string>>> mx;
  std::map<std::string, std::array<uint8_t, 4>> a;

 private:
  static void put16(std::string& out, uint16_t v) {
    out += static_cast<char>(v >> 8);
    out += static_cast<char>(v & 0xff);
  }
  static std::string encode_name(const std::string& name) {
    std::string out;
    std::size_t start = 0;
    while (start < name.size()) {
      std::size_t dot = name.find('.', start);
      if (dot == std::string::npos) dot = name.size();
      out += static_cast<char>(dot - start);
      out += name.substr(start, dot - start);
      start = dot + 1;
    }
    out += '\0';
    return out;
  }
  static bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  }

  void serve() {
    std::array<char, 512> buf{};
    for (;;) {
      udp::endpoint peer;
      boost::system::error_code ec;
      const std::size_t n = socket_.receive_from(asio::buffer(buf), peer, 0, ec);
      if (ec || stop_) return;
      if (n < 12) continue;
      // The question: labels from offset 12, then type and class.
      std::string name;
      std::size_t pos = 12;
      while (pos < n && buf[pos] != 0) {
        const auto len = static_cast<uint8_t>(buf[pos]);
        if (!name.empty()) name += '.';
        name.append(&buf[pos + 1], len);
        pos += 1 + len;
      }
      const std::size_t question_end = pos + 5;
      if (question_end > n) continue;
      const uint16_t type = static_cast<uint16_t>((static_cast<uint8_t>(buf[pos + 1]) << 8) | static_cast<uint8_t>(buf[pos + 2]));
      if (ends_with(name, "silent.test")) continue;
      std::string answers;
      uint16_t count = 0;
      uint16_t rcode = 0;
      if (ends_with(name, "nx.test")) {
        rcode = 3;
      } else if (type == 15 && mx.count(name)) {
        for (const auto& [pref, host] : mx[name]) {
          std::string rdata;
          put16(rdata, pref);
          rdata += encode_name(host);
          answers += "\xc0\x0c";
          put16(answers, 15);
          put16(answers, 1);
          answers += std::string("\0\0\0\x3c", 4);
          put16(answers, static_cast<uint16_t>(rdata.size()));
          answers += rdata;
          ++count;
        }
      } else if (type == 1 && a.count(name)) {
        answers += "\xc0\x0c";
        put16(answers, 1);
        put16(answers, 1);
        answers += std::string("\0\0\0\x3c", 4);
        put16(answers, 4);
        answers.append(reinterpret_cast<const char*>(a[name].data()), 4);
        count = 1;
      }
      std::string reply(buf.data(), 2);  // the id
      put16(reply, static_cast<uint16_t>(0x8180 | rcode));  // QR RD RA, rcode
      put16(reply, 1);
      put16(reply, count);
      put16(reply, 0);
      put16(reply, 0);
      reply.append(buf.data() + 12, question_end - 12);
      reply += answers;
      socket_.send_to(asio::buffer(reply), peer, 0, ec);
    }
  }

  std::atomic<bool> stop_{false};
  asio::io_context io_;
  udp::socket socket_;
  std::thread thread_;
};

class ResolverTest : public ::testing::Test {
 protected:
  template <typename T>
  T run(asio::awaitable<T> a) {
    auto f = asio::co_spawn(io_, std::move(a), asio::use_future);
    io_.restart();
    io_.run();
    return f.get();
  }
  std::unique_ptr<Resolver> make(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
    ResolverOptions o;
    o.servers = {dns_.address()};
    o.timeout = timeout;
    o.tries = 1;
    auto r = Resolver::create(io_.get_executor(), o);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
    return std::move(*r);
  }
  FakeDns dns_;
  asio::io_context io_;
};

TEST_F(ResolverTest, MxRecords) {
  dns_.mx["example.test"] = {{20, "mx2.example.test"}, {10, "mx1.example.test"}};
  auto r = make();
  MxAnswer a = run(r->mx("example.test"));
  ASSERT_EQ(a.answer, Answer::kOk) << a.detail;
  ASSERT_EQ(a.records.size(), 2u);
  std::mt19937_64 rng(1);
  MxPlan plan = plan_mx("example.test", a.answer, a.records, rng);
  EXPECT_EQ(plan.hosts, (std::vector<std::string>{"mx1.example.test", "mx2.example.test"}));
}

TEST_F(ResolverTest, NullMxComesBackAsTheRoot) {
  dns_.mx["nomail.test"] = {{0, ""}};
  auto r = make();
  MxAnswer a = run(r->mx("nomail.test"));
  ASSERT_EQ(a.answer, Answer::kOk) << a.detail;
  std::mt19937_64 rng(1);
  EXPECT_EQ(plan_mx("nomail.test", a.answer, a.records, rng).kind, MxPlan::Kind::kNullMx);
}

TEST_F(ResolverTest, NoDataAndNoDomainAndSilence) {
  auto r = make(std::chrono::milliseconds(300));
  EXPECT_EQ(run(r->mx("plain.test")).answer, Answer::kNoRecords);
  EXPECT_EQ(run(r->mx("host.nx.test")).answer, Answer::kNoDomain);
  MxAnswer silent = run(r->mx("silent.test"));
  EXPECT_EQ(silent.answer, Answer::kTemporary);
  EXPECT_FALSE(silent.detail.empty());
}

TEST_F(ResolverTest, Addresses) {
  dns_.a["mx1.example.test"] = {127, 0, 0, 9};
  auto r = make();
  AddressAnswer a = run(r->addresses("mx1.example.test"));
  ASSERT_EQ(a.answer, Answer::kOk) << a.detail;
  ASSERT_EQ(a.addresses.size(), 1u);
  EXPECT_EQ(a.addresses[0].to_string(), "127.0.0.9");
  EXPECT_EQ(run(r->addresses("gone.nx.test")).answer, Answer::kNoDomain);
}

TEST_F(ResolverTest, ManyLookupsAtOnce) {
  for (int i = 0; i < 20; ++i) dns_.mx["d" + std::to_string(i) + ".test"] = {{static_cast<uint16_t>(i), "mx.test"}};
  auto r = make();
  // Start 20 lookups together, then run them to completion.
  std::vector<std::future<MxAnswer>> futures;
  for (int i = 0; i < 20; ++i)
    futures.push_back(asio::co_spawn(io_, r->mx("d" + std::to_string(i) + ".test"), asio::use_future));
  io_.restart();
  io_.run();
  for (int i = 0; i < 20; ++i) {
    MxAnswer a = futures[static_cast<std::size_t>(i)].get();
    ASSERT_EQ(a.answer, Answer::kOk) << i << " " << a.detail;
    ASSERT_EQ(a.records.size(), 1u);
    EXPECT_EQ(a.records[0].preference, i);
  }
}

TEST_F(ResolverTest, BadServerListIsRefused) {
  ResolverOptions o;
  o.servers = {"not an address"};
  EXPECT_FALSE(Resolver::create(io_.get_executor(), o).has_value());
}

}  // namespace
}  // namespace tern::dns
