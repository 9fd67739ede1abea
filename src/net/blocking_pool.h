// net/blocking_pool.h: a pool of threads for blocking work (store calls, password hashing),
// awaited from session coroutines so no I/O thread ever blocks.
//
// run(f) runs f() on a pool thread and resumes the awaiting coroutine on its own executor
// with f's result (or rethrows what f threw). Thread-safety: run() may be called from any
// thread. The destructor finishes queued work and joins the threads; completions are then
// posted to the awaiting coroutines' executors, so every io_context that awaits the pool
// must outlive it (it may be stopped, not destroyed).
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace tern::net {

namespace asio = boost::asio;

class BlockingPool {
 public:
  explicit BlockingPool(std::size_t threads) : pool_(threads) {}
  ~BlockingPool() { pool_.join(); }
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // F: a callable taking no arguments and returning a movable R (or void).
  template <typename F>
  asio::awaitable<std::invoke_result_t<F>> run(F f) {
    using R = std::invoke_result_t<F>;
    auto home = co_await asio::this_coro::executor;
    if constexpr (std::is_void_v<R>) {
      auto init = [this, home, f = std::move(f)](auto handler) mutable {
        asio::post(pool_, [home, f = std::move(f), handler = std::move(handler)]() mutable {
          std::exception_ptr error;
          try {
            f();
          } catch (...) {
            error = std::current_exception();
          }
          asio::post(home, [handler = std::move(handler), error]() mutable {
            std::move(handler)(error);
          });
        });
      };
      co_await asio::async_initiate<decltype(asio::use_awaitable), void(std::exception_ptr)>(
          std::move(init), asio::use_awaitable);
    } else {
      auto init = [this, home, f = std::move(f)](auto handler) mutable {
        asio::post(pool_, [home, f = std::move(f), handler = std::move(handler)]() mutable {
          std::exception_ptr error;
          std::optional<R> result;
          try {
            result.emplace(f());
          } catch (...) {
            error = std::current_exception();
          }
          asio::post(home, [handler = std::move(handler), error,
                            result = std::move(result)]() mutable {
            std::move(handler)(error, std::move(result));
          });
        });
      };
      std::optional<R> result =
          co_await asio::async_initiate<decltype(asio::use_awaitable),
                                        void(std::exception_ptr, std::optional<R>)>(
              std::move(init), asio::use_awaitable);
      co_return std::move(*result);
    }
  }

 private:
  asio::thread_pool pool_;
};

}  // namespace tern::net
