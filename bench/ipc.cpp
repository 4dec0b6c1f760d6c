// ipc.cpp — tandem's ipc/ channels between the benchmark and a forked
// child, side by side with floors and the usual transports (shared/BENCH.md):
//
//   R1         64-byte request and reply while both sides spin: the one-way
//              latency (half the round trip), p50_ns / p99_ns
//   R2         64-byte request and reply with the peer parked (no spinning,
//              and a pause before each request so it falls asleep): the
//              round trip, p50_us / p99_us
//   R3_single  a one-way stream of 64-byte messages, one publish each: msgs_per_s
//   R3_batch   the same, published in batches of 32
//   R4_4k      a one-way stream of 4 KiB payloads (in the shared heap, copied
//              in by post(), the consumer checks a header): gb_per_s, next
//              to block_floor (the same through a ring of fixed blocks) and
//              memcpy within one process
//   R4_1m      the same with 1 MiB payloads
//
// Every repetition forks a fresh child over fresh shared memory, built
// before the fork and outside the timing (ipc_drivers.hpp); the peers are
// in ipc_peers.hpp.
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "harness.hpp"
#include "ipc/channel.hpp"
#include "ipc/segment.hpp"
#include "ipc_drivers.hpp"
#include "ipc_peers.hpp"

namespace {

namespace ipc = tandem::ipc;
using namespace std::chrono_literals;
using namespace ipc_bench;
using tandem::bench::better;
using tandem::bench::figures;
using tandem::bench::implementation;
using tandem::bench::percentile;

// sizes: the full run, or --quick (a few seconds, only proves it works).
struct sizes {
  int r1_rounds;
  int r2_rounds;
  std::uint64_t r3_messages;
  std::uint64_t r4_4k_payloads;
  std::uint64_t r4_1m_payloads;
};
constexpr sizes full_sizes{50'000, 5'000, 2'000'000, 100'000, 1'000};
constexpr sizes quick_sizes{500, 100, 50'000, 2'000, 20};

constexpr std::chrono::microseconds r2_pause{20};
constexpr unsigned r3_batch = 32;
constexpr std::size_t r4_heap_bytes = std::size_t{16} << 20;

// The waits: R1's peer is still spinning when a request comes (2^16
// PAUSEs, milliseconds, is far longer than a round trip, yet it parks soon
// enough to give a shared core back); R2's parks at once; the streams use
// the default, spin a little, then park.
const ipc::wait_policy spinning{1u << 16, peer_timeout};
const ipc::wait_policy parking{0, peer_timeout};
const ipc::wait_policy streaming{ipc::wait_policy{}.spins, peer_timeout};

// ---- tandem's transports ------------------------------------------------------

// channel_ping_pong: a request channel and a reply channel in one segment.
class channel_ping_pong {
 public:
  explicit channel_ping_pong(const ipc::wait_policy& policy)
      : policy_(policy),
        memory_({std::size_t{4} << 20, ipc::segment_backing::memfd}),
        requests_(memory_, small_channel()),
        replies_(memory_, small_channel()),
        out_(requests_),
        in_(replies_) {}

  std::span<const std::byte> shared_memory() const { return {memory_.base(), memory_.size()}; }

  int serve() {
    ipc::channel_reader in(requests_);
    ipc::channel_writer out(replies_);
    for (;;) {
      const ipc::decoded request = in.receive(policy_);
      if (request.error != ipc::frame_error::none) return 1;
      if (request.id == stop_seq) return 0;
      if (!out.send(1, request.id, request.payload, policy_)) return 1;
      in.done(request);
    }
  }

  void call(std::uint64_t seq) {
    if (!out_.send(1, seq, make_message(seq), policy_)) fail("tandem: request not sent");
    const ipc::decoded reply = in_.receive(policy_);
    if (reply.error != ipc::frame_error::none || reply.id != seq || seq_of(reply.payload) != seq)
      fail("tandem: no reply to request " + std::to_string(seq));
    in_.done(reply);
  }

  void stop() { out_.send(1, stop_seq, make_message(stop_seq), policy_); }

 private:
  static ipc::channel_options small_channel() {
    return {ipc::ring_options{}, std::size_t{1} << 20};
  }

  ipc::wait_policy policy_;
  ipc::segment memory_;
  ipc::channel requests_, replies_;
  ipc::channel_writer out_;
  ipc::channel_reader in_;
};

// channel_stream: payloads of one size, child to parent, flushed every
// `batch` messages (1: send() each).
class channel_stream {
 public:
  channel_stream(std::size_t payload_bytes, unsigned batch, std::size_t heap_bytes)
      : payload_bytes_(payload_bytes),
        batch_(batch),
        memory_({heap_bytes + (std::size_t{2} << 20), ipc::segment_backing::memfd}),
        link_(memory_, ipc::channel_options{ipc::ring_options{}, heap_bytes}),
        in_(link_) {}

  std::span<const std::byte> shared_memory() const { return {memory_.base(), memory_.size()}; }

  int produce(std::uint64_t count) {
    ipc::channel_writer out(link_);
    std::vector<std::byte> payload(payload_bytes_);
    for (std::uint64_t seq = 0; seq < count; ++seq) {
      std::memcpy(payload.data(), &seq, sizeof seq);
      if (!out.post(1, seq, payload, streaming)) return 1;
      if ((seq + 1) % batch_ == 0) out.flush();
    }
    out.flush();
    return 0;
  }

  void consume(std::uint64_t seq) {
    const ipc::decoded frame = in_.receive(streaming);
    if (frame.error != ipc::frame_error::none || frame.id != seq ||
        frame.payload.size() != payload_bytes_ || seq_of(frame.payload) != seq)
      fail("tandem: message " + std::to_string(seq) + " lost or damaged");
    in_.done(frame);
  }

 private:
  std::size_t payload_bytes_;
  unsigned batch_;
  ipc::segment memory_;
  ipc::channel link_;
  ipc::channel_reader in_;
};

// ---- figures ----------------------------------------------------------------

figures one_way_ns(const std::vector<double>& round_trip_ns) {
  return {{"p50_ns", percentile(round_trip_ns, 50) / 2},
          {"p99_ns", percentile(round_trip_ns, 99) / 2}};
}

figures round_trip_us(const std::vector<double>& round_trip_ns) {
  return {{"p50_us", percentile(round_trip_ns, 50) / 1000},
          {"p99_us", percentile(round_trip_ns, 99) / 1000}};
}

// ping_pong_impl() builds a fresh Transport(args...) for every repetition.
template <class Transport, class... Args>
implementation ping_pong_impl(std::string name, int rounds, std::chrono::microseconds pause,
                              figures (*report)(const std::vector<double>&), Args... args) {
  return {std::move(name), [=] {
            Transport link(args...);
            return report(ping_pong(link, rounds, pause));
          }};
}

// stream_impl() reports `count` messages of `bytes` over the seconds they
// took.
template <class Transport, class... Args>
implementation stream_impl(std::string name, std::uint64_t count, std::size_t bytes, Args... args) {
  return {std::move(name), [=] {
            Transport link(args...);
            const double seconds = stream_seconds(link, count);
            const auto moved = static_cast<double>(count);
            return figures{{"msgs_per_s", moved / seconds},
                           {"gb_per_s", moved * static_cast<double>(bytes) / seconds / 1e9}};
          }};
}

// ---- workloads --------------------------------------------------------------

void bench_r1(tandem::bench::harness& h, const sizes& sz) {
  const int n = sz.r1_rounds;
  h.run_workload("R1", {{"p50_ns", better::lower}, {"p99_ns", better::lower}},
                 {ping_pong_impl<channel_ping_pong>("tandem", n, 0us, one_way_ns, spinning),
                  ping_pong_impl<futex_floor>("futex_floor", n, 0us, one_way_ns),
                  ping_pong_impl<spin_floor>("spin_floor", n, 0us, one_way_ns)});
}

void bench_r2(tandem::bench::harness& h, const sizes& sz) {
  const int n = sz.r2_rounds;
  const auto pause = r2_pause;
  h.run_workload(
      "R2", {{"p50_us", better::lower}, {"p99_us", better::lower}},
      {ping_pong_impl<channel_ping_pong>("tandem", n, pause, round_trip_us, parking),
       ping_pong_impl<futex_floor>("futex_floor", n, pause, round_trip_us),
       ping_pong_impl<fd_pair>("pipe", n, pause, round_trip_us, fd_kind::pipes),
       ping_pong_impl<fd_pair>("unix", n, pause, round_trip_us, fd_kind::unix_socketpair),
       ping_pong_impl<bip_mq>("bip_mq", n, pause, round_trip_us)});
}

void bench_r3(tandem::bench::harness& h, const sizes& sz, const char* workload, unsigned batch) {
  const auto n = sz.r3_messages;
  const std::size_t heap_bytes = std::size_t{1} << 20;  // unused: 64-byte frames are inline
  h.run_workload(
      workload, {{"msgs_per_s", better::higher}},
      {stream_impl<channel_stream>("tandem", n, message_bytes, message_bytes, batch, heap_bytes),
       stream_impl<ring_floor>("ring_floor", n, message_bytes, batch)});
}

void bench_r4(tandem::bench::harness& h, const char* workload, std::size_t bytes, std::uint64_t n) {
  h.run_workload(workload, {{"gb_per_s", better::higher}},
                 {stream_impl<channel_stream>("tandem", n, bytes, bytes, 1u, r4_heap_bytes),
                  stream_impl<block_floor>("block_floor", n, bytes, bytes),
                  {"memcpy", [=] {
                     const double seconds = memcpy_seconds(bytes, n);
                     return figures{{"gb_per_s", static_cast<double>(n * bytes) / seconds / 1e9}};
                   }}});
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a dead peer must fail a write, not kill the benchmark
  tandem::bench::harness h(
      "ipc", tandem::bench::parse_options(argc, argv, "ipc",
                                          {"R1", "R2", "R3_single", "R3_batch", "R4_4k", "R4_1m"}));
  const sizes& sz = h.opts().quick ? quick_sizes : full_sizes;
  try {
    bench_r1(h, sz);
    bench_r2(h, sz);
    bench_r3(h, sz, "R3_single", 1);
    bench_r3(h, sz, "R3_batch", r3_batch);
    bench_r4(h, "R4_4k", std::size_t{4} << 10, sz.r4_4k_payloads);
    bench_r4(h, "R4_1m", std::size_t{1} << 20, sz.r4_1m_payloads);
  } catch (const std::exception& failure) {
    // Unwinding has killed and reaped the child and unmapped the segments.
    std::fprintf(stderr, "ipc: %s\n", failure.what());
    return 1;
  }
  return h.finish();
}
