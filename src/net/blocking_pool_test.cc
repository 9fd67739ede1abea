#include "net/blocking_pool.h"

#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

namespace tern::net {
namespace {

TEST(BlockingPool, ReturnsValueOnTheCallersThread) {
  asio::io_context ioc;
  BlockingPool pool(2);
  std::string result;
  std::thread::id worker;
  std::thread::id resumed;
  auto body = [&]() -> asio::awaitable<void> {
    auto work = [&] {
      worker = std::this_thread::get_id();
      return std::string("done");
    };
    result = co_await pool.run(work);
    resumed = std::this_thread::get_id();
  };
  asio::co_spawn(ioc, body(), asio::detached);
  ioc.run();
  EXPECT_EQ(result, "done");
  EXPECT_NE(worker, std::this_thread::get_id());
  EXPECT_EQ(resumed, std::this_thread::get_id());
}

TEST(BlockingPool, VoidWorkAndExceptions) {
  asio::io_context ioc;
  BlockingPool pool(1);
  int counter = 0;
  std::string caught;
  auto body = [&]() -> asio::awaitable<void> {
    auto inc = [&] { ++counter; };
    co_await pool.run(inc);
    auto fail = []() -> int { throw std::runtime_error("disk on fire"); };
    try {
      co_await pool.run(fail);
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
  };
  asio::co_spawn(ioc, body(), asio::detached);
  ioc.run();
  EXPECT_EQ(counter, 1);
  EXPECT_EQ(caught, "disk on fire");
}

}  // namespace
}  // namespace tern::net
