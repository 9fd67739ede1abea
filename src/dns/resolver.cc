// dns/resolver.cc: c-ares on an Asio executor (see resolver.h). c-ares tells which sockets
// it wants watched through its socket-state callback; each gets a non-owning
// stream_descriptor whose readiness waits call ares_process_fd. One timer runs c-ares's
// retransmission and timeout clock (ares_timeout).
#include "dns/resolver.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ares.h>
#include <netinet/in.h>

#include <map>
#include <mutex>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

namespace tern::dns {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

Answer answer_of(int status) {
  switch (status) {
    case ARES_SUCCESS: return Answer::kOk;
    case ARES_ENODATA: return Answer::kNoRecords;
    case ARES_ENOTFOUND: return Answer::kNoDomain;
    default: return Answer::kTemporary;
  }
}

// One lookup's result, shared by the coroutine that waits and the c-ares callback.
struct Waiter {
  explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {
    timer.expires_at(asio::steady_timer::time_point::max());
  }
  asio::steady_timer timer;  // cancelled by the callback to wake the coroutine
  bool done = false;
  MxAnswer mx;
  AddressAnswer addresses;
};
using WaiterRef = std::shared_ptr<Waiter>;

void finish(Waiter& w) {
  w.done = true;
  w.timer.cancel();
}

void on_mx(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  std::unique_ptr<WaiterRef> ref(static_cast<WaiterRef*>(arg));
  Waiter& w = **ref;
  w.mx.answer = answer_of(status);
  if (status == ARES_SUCCESS) {
    ares_mx_reply* reply = nullptr;
    const int parsed = ares_parse_mx_reply(abuf, alen, &reply);
    if (parsed == ARES_SUCCESS) {
      for (ares_mx_reply* r = reply; r != nullptr; r = r->next)
        w.mx.records.push_back(MxRecord{r->priority, r->host ? r->host : ""});
      ares_free_data(reply);
      if (w.mx.records.empty()) w.mx.answer = Answer::kNoRecords;
    } else {
      w.mx.answer = answer_of(parsed);
      w.mx.detail = ares_strerror(parsed);
    }
  } else {
    w.mx.detail = ares_strerror(status);
  }
  finish(w);
}

void on_addresses(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
  std::unique_ptr<WaiterRef> ref(static_cast<WaiterRef*>(arg));
  Waiter& w = **ref;
  w.addresses.answer = answer_of(status);
  if (status != ARES_SUCCESS) w.addresses.detail = ares_strerror(status);
  if (result != nullptr) {
    for (ares_addrinfo_node* n = result->nodes; n != nullptr; n = n->ai_next) {
      if (n->ai_family == AF_INET && n->ai_addr != nullptr) {
        const auto* sin = reinterpret_cast<const sockaddr_in*>(n->ai_addr);
        w.addresses.addresses.emplace_back(asio::ip::address_v4(ntohl(sin->sin_addr.s_addr)));
      } else if (n->ai_family == AF_INET6 && n->ai_addr != nullptr) {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(n->ai_addr);
        asio::ip::address_v6::bytes_type bytes;
        std::memcpy(bytes.data(), sin6->sin6_addr.s6_addr, bytes.size());
        w.addresses.addresses.emplace_back(asio::ip::address_v6(bytes));
      }
    }
    ares_freeaddrinfo(result);
  }
  if (w.addresses.answer == Answer::kOk && w.addresses.addresses.empty())
    w.addresses.answer = Answer::kNoRecords;
  finish(w);
}

std::once_flag library_once;
int library_status = ARES_SUCCESS;

}  // namespace

struct Resolver::Impl {
  // A socket c-ares asked us to watch. The descriptor never owns the fd: c-ares closes it.
  struct Watch {
    std::unique_ptr<asio::posix::stream_descriptor> descriptor;
    bool want_read = false, want_write = false;
    bool reading = false, writing = false;
    bool closed = false;
  };

  explicit Impl(asio::any_io_executor ex) : executor(std::move(ex)), timer(executor) {}

  ~Impl() {
    *alive = false;
    if (channel != nullptr) ares_destroy(channel);  // fails pending lookups (ARES_EDESTRUCTION)
    for (auto& [fd, w] : watches) {
      w->closed = true;
      (void)w->descriptor->release();
    }
  }

  static void sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<Impl*>(data)->on_sock_state(fd, readable != 0, writable != 0);
  }

  void on_sock_state(int fd, bool readable, bool writable) {
    auto it = watches.find(fd);
    if (!readable && !writable) {
      if (it == watches.end()) return;
      it->second->closed = true;
      (void)it->second->descriptor->release();  // aborts its waits; c-ares closes the fd
      watches.erase(it);
      return;
    }
    if (it == watches.end()) {
      auto w = std::make_shared<Watch>();
      w->descriptor = std::make_unique<asio::posix::stream_descriptor>(executor, fd);
      it = watches.emplace(fd, std::move(w)).first;
    }
    it->second->want_read = readable;
    it->second->want_write = writable;
    arm(fd, it->second);
  }

  void arm(int fd, const std::shared_ptr<Watch>& w) {
    if (w->want_read && !w->reading) {
      w->reading = true;
      w->descriptor->async_wait(asio::posix::stream_descriptor::wait_read, [this, fd, w](error_code ec) {
        w->reading = false;
        if (w->closed || ec) return;
        ares_process_fd(channel, fd, ARES_SOCKET_BAD);
        if (!w->closed) arm(fd, w);
        reschedule();
      });
    }
    if (w->want_write && !w->writing) {
      w->writing = true;
      w->descriptor->async_wait(asio::posix::stream_descriptor::wait_write, [this, fd, w](error_code ec) {
        w->writing = false;
        if (w->closed || ec) return;
        ares_process_fd(channel, ARES_SOCKET_BAD, fd);
        if (!w->closed) arm(fd, w);
        reschedule();
      });
    }
  }

  // Sets the timer to c-ares's next deadline (retransmission or timeout).
  void reschedule() {
    timeval tv{};
    timeval* next = ares_timeout(channel, nullptr, &tv);
    if (next == nullptr) {
      timer.cancel();
      return;
    }
    timer.expires_after(std::chrono::seconds(next->tv_sec) + std::chrono::microseconds(next->tv_usec));
    timer.async_wait([this, alive = alive](error_code ec) {
      if (ec || !*alive) return;
      ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      reschedule();
    });
  }

  asio::any_io_executor executor;
  ares_channel channel = nullptr;
  asio::steady_timer timer;
  std::map<int, std::shared_ptr<Watch>> watches;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

Result<std::unique_ptr<Resolver>> Resolver::create(asio::any_io_executor executor,
                                                   const ResolverOptions& options) {
  std::call_once(library_once, [] { library_status = ares_library_init(ARES_LIB_INIT_ALL); });
  if (library_status != ARES_SUCCESS)
    return make_error(ErrorCode::kInternal, "c-ares: {}", ares_strerror(library_status));
  auto impl = std::make_unique<Impl>(std::move(executor));
  ares_options opts{};
  opts.sock_state_cb = &Impl::sock_state;
  opts.sock_state_cb_data = impl.get();
  opts.timeout = static_cast<int>(options.timeout.count());
  opts.tries = options.tries;
  const int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  if (int st = ares_init_options(&impl->channel, &opts, mask); st != ARES_SUCCESS)
    return make_error(ErrorCode::kUnavailable, "c-ares: cannot start the resolver: {}", ares_strerror(st));
  if (!options.servers.empty()) {
    std::string csv;
    for (const std::string& s : options.servers) {
      if (!csv.empty()) csv += ',';
      csv += s;
    }
    if (int st = ares_set_servers_ports_csv(impl->channel, csv.c_str()); st != ARES_SUCCESS)
      return make_error(ErrorCode::kInvalid, "c-ares: bad name server list '{}': {}", csv, ares_strerror(st));
  }
  return std::unique_ptr<Resolver>(new Resolver(std::move(impl)));
}

Resolver::Resolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Resolver::~Resolver() = default;

asio::awaitable<MxAnswer> Resolver::mx(std::string domain) {
  auto w = std::make_shared<Waiter>(impl_->executor);
  ares_query(impl_->channel, domain.c_str(), ns_c_in, ns_t_mx, &on_mx, new WaiterRef(w));
  impl_->reschedule();
  while (!w->done) {
    error_code ec;
    co_await w->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return std::move(w->mx);
}

asio::awaitable<AddressAnswer> Resolver::addresses(std::string host) {
  auto w = std::make_shared<Waiter>(impl_->executor);
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  ares_getaddrinfo(impl_->channel, host.c_str(), nullptr, &hints, &on_addresses, new WaiterRef(w));
  impl_->reschedule();
  while (!w->done) {
    error_code ec;
    co_await w->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return std::move(w->addresses);
}

}  // namespace tern::dns
