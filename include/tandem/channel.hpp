// channel.hpp — tandem::channel<T>, a bounded queue between threads and
// processes (Go's channels, Python's multiprocessing.Queue).
//
//   tandem::channel<reading> readings(rt, 1024);           // room for 1024
//   const auto produce = tandem::define_task<void(tandem::channel<reading>)>(
//       "produce", tandem::cpu, [](tandem::channel<reading> out) {
//         for (int i = 0; i < 100; ++i) out.send(measure(i));  // waits while full
//         out.close();
//       });
//   auto done = rt.submit(produce, readings);
//   while (auto r = readings.receive()) use(*r);            // until closed and drained
//
// Many senders and many receivers, in any threads and processes, may use
// one channel at once. Values are copied byte for byte into shared memory,
// so T must be trivially copyable (a std::string, whose characters live on
// one process's heap, does not compile). A full channel makes senders wait
// (backpressure); close() wakes every waiter: waiting senders throw
// channel_closed, receivers drain what is left and then get nothing. A
// send() that returns, even one racing close(), has delivered its value:
// receivers get it before they see the channel closed and empty.
//
// Creation, lifetime and handles are as for sync.hpp's objects. A process
// killed in the middle of a send may lose that value and stall receivers
// at its slot, closed or not: give receivers a timeout where senders may
// be killed.
#pragma once

#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "tandem/detail/deadline.hpp"
#include "tandem/detail/shared_object.hpp"
#include "tandem/errors.hpp"

namespace tandem {

class runtime;

namespace detail {

// The type-erased channel: values are `value_bytes` bytes, copied whole.
enum class channel_status { done, closed, timed_out };

std::size_t channel_body_bytes(std::size_t capacity, std::size_t value_bytes,
                               std::size_t value_alignment);
void channel_init(void* body, std::size_t capacity, std::size_t value_bytes,
                  std::size_t value_alignment);
// A deadline in the past makes an attempt that does not wait.
channel_status channel_send(void* body, const void* value,
                            std::chrono::steady_clock::time_point deadline);
channel_status channel_receive(void* body, void* value,
                               std::chrono::steady_clock::time_point deadline);
void channel_close(void* body) noexcept;
bool channel_is_closed(const void* body) noexcept;
std::size_t channel_size(const void* body) noexcept;
std::size_t channel_capacity(const void* body) noexcept;

}  // namespace detail

template <class T>
class channel {
  static_assert(std::is_trivially_copyable_v<T> && !std::is_pointer_v<T>,
                "tandem::channel<T> needs a trivially copyable, non-pointer T: values are copied "
                "byte for byte between processes, where a pointer into one process's memory "
                "means nothing (send sizes and offsets, or fixed-size arrays of char)");
  static_assert(alignof(T) <= 64, "tandem::channel<T>: T may be aligned to at most 64 bytes");

 public:
  static constexpr detail::object_kind object_kind_v = detail::object_kind::channel;
  static constexpr std::uint32_t object_tag_v = sizeof(T);

  // channel() makes an empty channel with room for `capacity` values in
  // rt's object space; throws tandem::error for a capacity of 0, or when
  // the space is full.
  channel(runtime& rt, std::size_t capacity)
      : handle_(rt, object_kind_v, object_tag_v, checked_bytes(capacity)) {
    detail::channel_init(handle_.body(), capacity, sizeof(T), alignof(T));
  }

  // send() waits while the channel is full; throws channel_closed if it is
  // (or becomes) closed.
  void send(const T& value) { send_until(value, no_deadline()); }
  // try_send() is false when the channel is full; throws channel_closed.
  bool try_send(const T& value) { return send_until(value, {}); }
  // send_for() is false when no room came within `timeout`.
  template <class Rep, class Period>
  bool send_for(const T& value, const std::chrono::duration<Rep, Period>& timeout) {
    return send_until(value, detail::deadline_after(timeout));
  }

  // receive() waits for a value; nothing once the channel is closed and
  // empty.
  std::optional<T> receive() { return receive_until(no_deadline()); }
  // try_receive() is nothing when the channel is empty now (see is_closed()).
  std::optional<T> try_receive() { return receive_until({}); }
  // receive_for() is nothing when no value came within `timeout`, or the
  // channel is closed and empty.
  template <class Rep, class Period>
  std::optional<T> receive_for(const std::chrono::duration<Rep, Period>& timeout) {
    return receive_until(detail::deadline_after(timeout));
  }

  // close() ends the channel: later sends throw channel_closed, receivers
  // take what is left. Idempotent.
  void close() noexcept { detail::channel_close(handle_.body()); }
  bool is_closed() const noexcept { return detail::channel_is_closed(handle_.body()); }
  // size() is how many values wait now (stale as soon as it returns).
  std::size_t size() const noexcept { return detail::channel_size(handle_.body()); }
  std::size_t capacity() const noexcept { return detail::channel_capacity(handle_.body()); }

 private:
  friend struct detail::handle_access;
  explicit channel(detail::object_handle handle) noexcept : handle_(std::move(handle)) {}

  static std::chrono::steady_clock::time_point no_deadline() noexcept {
    return std::chrono::steady_clock::time_point::max();
  }
  static std::size_t checked_bytes(std::size_t capacity) {
    if (capacity == 0) throw error("tandem::channel: capacity must be at least 1");
    return detail::channel_body_bytes(capacity, sizeof(T), alignof(T));
  }
  bool send_until(const T& value, std::chrono::steady_clock::time_point deadline) {
    const auto status = detail::channel_send(handle_.body(), &value, deadline);
    if (status == detail::channel_status::closed) throw channel_closed();
    return status == detail::channel_status::done;
  }
  std::optional<T> receive_until(std::chrono::steady_clock::time_point deadline) {
    struct alignas(T) bytes {
      std::byte raw[sizeof(T)];
    } received;
    if (detail::channel_receive(handle_.body(), received.raw, deadline) !=
        detail::channel_status::done)
      return std::nullopt;
    return std::bit_cast<T>(received);
  }

  detail::object_handle handle_;
};

}  // namespace tandem
