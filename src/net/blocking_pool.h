// net/blocking_pool.h: a pool of threads for blocking work (store calls, password hashing),
// awaited from session coroutines so no I/O thread ever blocks.
//
// run(f) runs f() on a pool thread and resumes the awaiting coroutine on its own executor
// with f's result. Thread-safety: run() may be called from any thread. The destructor
// finishes queued work and joins the threads.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>

namespace tern::net {

namespace asio = boost::asio;

class BlockingPool {
 public:
  explicit BlockingPool(std::size_t threads) : pool_(threads) {}
  ~BlockingPool() { pool_.join(); }

  // F: a callable taking no arguments, returning a default-constructible or movable R.
  template <typename F>
  asio::awaitable<std::invoke_result_t<F>> run(F f) {
    using R = std::invoke_result_t<F>;
    auto home = co_await asio::this_coro::executor;
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::optional<R>)>(
        [this, home, f = std::move(f)](auto handler) mutable {
          asio::post(pool_, [home, f = std::move(f), handler = std::move(handler)]() mutable {
            std::optional<R> result(f());
            asio::post(home, [handler = std::move(handler), result = std::move(result)]() mutable {
              std::move(handler)(std::move(result));
            });
          });
        },
        asio::use_awaitable)
        .value();
  }

 private:
  asio::thread_pool pool_;
};

}  // namespace tern::net
