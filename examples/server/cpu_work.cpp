// cpu_work.cpp — the two ways of doing the /cpu/* work.
#include "cpu_work.hpp"

#include <boost/asio/use_awaitable.hpp>
#include <tandem/io_executor.hpp>
#include <tandem/metrics.hpp>
#include <tandem/runtime.hpp>

#include "cpu_tasks.hpp"

namespace server {

namespace asio = boost::asio;

asio::awaitable<long> lane_work::fib(int n) {
  co_return co_await tandem::async_get(rt_.submit(options(), fib_task, n), asio::use_awaitable);
}

asio::awaitable<std::uint64_t> lane_work::hash(int mib) {
  co_return co_await tandem::async_get(rt_.submit(options(), hash_task, mib), asio::use_awaitable);
}

asio::awaitable<void> lane_work::crash() {
  co_await tandem::async_get(rt_.submit(options(), crash_task), asio::use_awaitable);
}

asio::awaitable<void> lane_work::hang() {
  co_await tandem::async_get(rt_.submit(options(), hang_task), asio::use_awaitable);
}

tandem::submit_options lane_work::options() const { return {.timeout = timeout_}; }

std::size_t lane_work::workers_alive() const { return rt_.cpu_worker_pids().size(); }

std::size_t lane_work::workers_wanted() const { return rt_.options().cpu_workers; }

std::string lane_work::prometheus_text() const { return tandem::to_prometheus(rt_.metrics()); }

asio::awaitable<long> inline_work::fib(int n) { co_return server::fib(n); }

asio::awaitable<std::uint64_t> inline_work::hash(int mib) { co_return hash_generated(mib); }

asio::awaitable<void> inline_work::crash() {
  throw not_available("--inline serves no /cpu/crash: the crash would end the whole server");
  co_return;
}

asio::awaitable<void> inline_work::hang() {
  throw not_available("--inline serves no /cpu/hang: nothing could stop the spinning thread");
  co_return;
}

}  // namespace server
