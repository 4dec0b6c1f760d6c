// asio_handler_memory.hpp — lets Asio recycle handler and coroutine-frame
// memory on an io worker, as it does on a thread inside io_context::run().
#pragma once

#include <boost/asio/detail/thread_context.hpp>
#include <boost/asio/detail/thread_info_base.hpp>

namespace tandem::detail {

// Asio keeps the last freed block of each kind (a completion handler's
// operation, a coroutine frame, a wrapped function) for the next one, per
// thread, but only on a thread it knows: one inside io_context::run(),
// found on its thread call stack. Our io workers run completion handlers
// and resume coroutines outside run(), so each of those blocks went back
// to malloc, often to the arena of the thread that had allocated it (the
// one that called co_spawn), whose lock the workers and that thread then
// fought over. An io worker holds one asio_handler_memory for its life.
//
// The entry names no io_context (its key is its own), so Asio never takes
// this worker for one of its scheduler's threads: it only finds somewhere
// to keep memory. Asio's detail namespace, unchanged in this respect from
// Boost 1.74 on.
class asio_handler_memory {
 public:
  asio_handler_memory() : entry_(&key_, cache_) {}
  asio_handler_memory(const asio_handler_memory&) = delete;
  asio_handler_memory& operator=(const asio_handler_memory&) = delete;

 private:
  boost::asio::detail::thread_context key_;
  boost::asio::detail::thread_info_base cache_;  // frees what it keeps when destroyed
  boost::asio::detail::thread_context::thread_call_stack::context entry_;
};

}  // namespace tandem::detail
