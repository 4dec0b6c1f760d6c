// stream.hpp — a checksummed frame stream for the ipc suites.
//
// Frame `id` has a size and content that both ends derive from the id, so
// the consumer knows what must arrive without a side channel: 99 in 100
// frames are 1 .. max_inline bytes (inline in the ring), 1 in 100 is
// 1 KiB .. 1 MiB (log-uniform, in the shared heap; odd ids built in place,
// even ids copied). A payload of 8 bytes or more starts with a checksum of
// the rest; shorter ones are checked byte by byte.
#pragma once

#include "ipc/channel.hpp"

#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace tandem::ipc::test {

inline std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline std::size_t payload_size(std::uint64_t id, std::uint32_t max_inline) {
  const std::uint64_t r = mix(id);
  if (r % 100 != 0) return 1 + (r >> 8) % max_inline;
  const unsigned exponent = 10 + static_cast<unsigned>((r >> 8) % 10);  // 1 KiB .. 512 KiB
  const std::size_t size = (std::size_t{1} << exponent) + (r >> 16) % (std::size_t{1} << exponent);
  return size <= max_inline ? max_inline + 1 : size;
}

inline std::uint16_t payload_kind(std::uint64_t id) { return static_cast<std::uint16_t>(1 + id % 7); }

// checksum() is Fletcher-style over 64-bit words: one add chain, fast
// enough that gigabytes of payload do not dominate the test.
inline std::uint64_t checksum(std::span<const std::byte> bytes) {
  std::uint64_t a = 1, b = 0;
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    a += word;
    b += a;
  }
  for (; i < bytes.size(); ++i) b += a += static_cast<std::uint64_t>(bytes[i]);
  return a ^ (b * 0x9e3779b97f4a7c15ULL);
}

inline void fill(std::span<std::byte> bytes, std::uint64_t id) {
  std::uint64_t state = mix(id ^ 0x5bd1e995ULL) | 1;
  for (std::size_t i = 0; i < bytes.size(); i += 8) {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    std::memcpy(bytes.data() + i, &state, std::min<std::size_t>(8, bytes.size() - i));
  }
  if (bytes.size() < 8) return;
  const std::uint64_t sum = checksum(bytes.subspan(8));
  std::memcpy(bytes.data(), &sum, 8);
}

inline bool intact(std::span<const std::byte> bytes, std::uint64_t id) {
  if (bytes.size() < 8) {
    std::byte expected[8];
    fill(std::span<std::byte>(expected, bytes.size()), id);
    return std::memcmp(expected, bytes.data(), bytes.size()) == 0;
  }
  std::uint64_t sum;
  std::memcpy(&sum, bytes.data(), 8);
  return sum == checksum(bytes.subspan(8));
}

// maybe_pause() sleeps now and then, so the other side finds an empty (or
// full) ring, parks, and must be woken: the lost-wake-up hunt.
inline void maybe_pause(std::uint64_t id, std::uint64_t salt) {
  const std::uint64_t r = mix(id * 31 + salt);
  if (r % 2048 == 0) std::this_thread::sleep_for(std::chrono::microseconds(r >> 53));
}

// stress_policy spins briefly so that parking is frequent; a lost wake-up
// shows as a timeout, which fails the test instead of hanging it.
inline wait_policy stress_policy() { return wait_policy{64, std::chrono::seconds(20)}; }

// produce() sends frames first .. first+count-1; false on a timeout.
inline bool produce(channel_writer& out, std::uint64_t first, std::uint64_t count, bool pauses) {
  std::vector<std::byte> scratch;
  for (std::uint64_t id = first; id < first + count; ++id) {
    const std::size_t size = payload_size(id, out.max_inline());
    bool posted;
    if (size > out.max_inline() && id % 2 == 1) {
      shm_buffer block = out.allocate(size, stress_policy());
      if (!block) return false;
      fill(block.bytes(), id);
      posted = out.post(payload_kind(id), id, std::move(block), stress_policy());
    } else {
      scratch.resize(size);
      fill(scratch, id);
      posted = out.post(payload_kind(id), id, scratch, stress_policy());
    }
    if (!posted) return false;
    if (mix(id) % 4 != 0) out.flush();  // the rest go out in small batches
    if (pauses) maybe_pause(id, 1);
  }
  out.flush();
  return true;
}

// consume() receives frames first .. first+count-1 and returns "" or what
// went wrong first.
inline std::string consume(channel_reader& in, std::uint32_t max_inline, std::uint64_t first,
                           std::uint64_t count, bool pauses) {
  for (std::uint64_t id = first; id < first + count; ++id) {
    const decoded frame = in.receive(stress_policy());
    if (frame.error != frame_error::none)
      return "frame " + std::to_string(id) + ": " + describe(frame.error);
    if (frame.id != id || frame.kind != payload_kind(id) ||
        frame.payload.size() != payload_size(id, max_inline) || !intact(frame.payload, id))
      return "frame " + std::to_string(id) + " arrived damaged (id " + std::to_string(frame.id) + ")";
    in.done(frame);
    if (pauses) maybe_pause(id, 2);
  }
  return "";
}

}  // namespace tandem::ipc::test
