// White-box tests of worker_slot's window: what the dispatcher concludes
// from the run gate about the jobs it sent to one worker. The worker's side
// is played by the test through the gate, so each interleaving is forced,
// not hoped for.
#include "runtime/worker_slot.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <deque>
#include <memory>
#include <vector>

#include "ipc/segment.hpp"
#include "tandem/tandem.hpp"

using namespace std::chrono_literals;
using tandem::detail::cpu_job;
using tandem::detail::run_gate;
using tandem::detail::worker_slot;

namespace {

const auto twice =
    tandem::define_task<int(int)>("slot.twice", tandem::cpu, [](int x) { return 2 * x; });

// A job as the lane holds one: a cpu_call with the future's reference and
// the lane's, both given up at the end.
struct test_job {
  tandem::detail::cpu_call<int>* call =
      new tandem::detail::cpu_call<int>(0, twice.entry(), std::chrono::nanoseconds::zero());
  test_job() = default;
  test_job(const test_job&) = delete;
  test_job& operator=(const test_job&) = delete;
  ~test_job() {
    call->drop();
    call->release();
  }
};

struct slot_fixture {
  tandem::ipc::segment memory{{.size = std::size_t{4} << 20}};
  worker_slot slot{memory, 0, tandem::ipc::ring_options{}, std::size_t{1} << 20};
  std::vector<std::unique_ptr<test_job>> jobs;

  // offer() sends `n` more jobs into the window.
  void offer(int n) {
    for (int i = 0; i < n; ++i) {
      jobs.push_back(std::make_unique<test_job>());
      REQUIRE(slot.has_room());
      // As the lane holds a job it offers: claimed, in transit.
      jobs.back()->call->window_ticket.store(tandem::detail::cpu_job::in_transit);
      REQUIRE(slot.offer(*jobs.back()->call) == worker_slot::offer_result::offered);
    }
  }
  // The worker's moves on the window's i-th job.
  bool worker_starts(std::size_t i) { return slot.gate().try_start(slot.window[i].number, 1); }
  // The owner's withdrawal (cpu_lane::withdraw()): true when it won.
  bool owner_withdraws(std::size_t i) {
    return slot.gate().try_settle(slot.window[i].number, run_gate::fate::withdrawn);
  }
};

}  // namespace

TEST_CASE("the window's first job runs only until the worker starts the next one" *
          doctest::timeout(10)) {
  slot_fixture f;
  f.offer(3);
  CHECK_FALSE(f.slot.front_started());
  CHECK_FALSE(f.slot.front_running());

  REQUIRE(f.worker_starts(0));
  CHECK(f.slot.front_started());
  CHECK(f.slot.front_running());

  // The first job has ended and its reply waits in the ring: a kill for a
  // stop cause of the first job must not hit the worker, which runs the
  // second one now.
  REQUIRE(f.worker_starts(1));
  CHECK(f.slot.front_started());
  CHECK_FALSE(f.slot.front_running());

  // The dispatcher takes the first reply: the second job is the front and
  // is the one running.
  CHECK(&f.slot.pop_front() == f.jobs[0]->call);
  CHECK(f.slot.front_running());
}

TEST_CASE("a later job withdrawn by its owner does not hide that the first one runs" *
          doctest::timeout(10)) {
  slot_fixture f;
  f.offer(3);
  REQUIRE(f.worker_starts(0));
  CHECK(f.owner_withdraws(1));
  CHECK(f.slot.front_running());

  // The worker skips the withdrawn job and starts the third: the first has
  // ended.
  REQUIRE(f.worker_starts(2));
  CHECK_FALSE(f.slot.front_running());
}

TEST_CASE("a job is withdrawn once, and never once started" * doctest::timeout(10)) {
  slot_fixture f;
  f.offer(2);
  REQUIRE(f.worker_starts(0));
  CHECK_FALSE(f.owner_withdraws(0));
  CHECK(f.owner_withdraws(1));
  // A second cancel() must not resolve the future again.
  CHECK_FALSE(f.owner_withdraws(1));
  CHECK(f.slot.gate().fate_of(f.slot.window[1].number) == run_gate::fate::withdrawn);
}

TEST_CASE("taking back stops at the job the worker has started" * doctest::timeout(10)) {
  slot_fixture f;
  f.offer(4);
  REQUIRE(f.worker_starts(0));
  REQUIRE(f.worker_starts(1));
  CHECK(f.owner_withdraws(3));

  std::deque<cpu_job*> unstarted;
  std::vector<cpu_job*> withdrawn;
  f.slot.take_back(unstarted, withdrawn);

  REQUIRE(unstarted.size() == 1);
  CHECK(unstarted.front() == f.jobs[2]->call);
  REQUIRE(withdrawn.size() == 1);
  CHECK(withdrawn.front() == f.jobs[3]->call);
  CHECK(f.slot.window.size() == 2);
  // The worker started the second job before the take-back: the first has
  // ended, and no stop for its sake may kill the worker.
  CHECK_FALSE(f.slot.front_running());
  // A job taken back can no longer be started by the worker.
  CHECK_FALSE(f.slot.gate().try_start(2, 1));
  CHECK(f.slot.gate().fate_of(2) == run_gate::fate::taken_back);
  // It is in transit again, for the lane to offer (or its owner to
  // withdraw); the withdrawn one is in no window and in no transit.
  CHECK(f.jobs[2]->call->window_ticket.load() == cpu_job::in_transit);
  CHECK(f.jobs[3]->call->window_ticket.load() == 0);
}

TEST_CASE("a job withdrawn in transit is not offered" * doctest::timeout(10)) {
  slot_fixture f;
  f.offer(1);
  test_job job;
  job.call->window_ticket.store(cpu_job::withdrawn_in_transit);
  CHECK(f.slot.offer(*job.call) == worker_slot::offer_result::withdrawn);
  CHECK(f.slot.window.size() == 1);
  CHECK(job.call->window_ticket.load() == cpu_job::withdrawn_in_transit);
  // The next job offered takes the number the withdrawn one did not use.
  f.offer(1);
  CHECK(f.slot.window.back().number == 1);
}

TEST_CASE("after the take-back the first job is the only one the worker can be running" *
          doctest::timeout(10)) {
  // The dispatcher's order before a kill (cpu_lane::enforce_limits): take
  // back what the worker has not started, then look again. Whatever the
  // worker does after that, a kill for the first job hits no other job.
  slot_fixture f;
  f.offer(3);
  REQUIRE(f.worker_starts(0));
  const std::uint32_t second = f.slot.window[1].number;
  const std::uint32_t third = f.slot.window[2].number;

  std::deque<cpu_job*> unstarted;
  std::vector<cpu_job*> withdrawn;
  f.slot.take_back(unstarted, withdrawn);
  CHECK(unstarted.size() == 2);
  CHECK(withdrawn.empty());
  REQUIRE(f.slot.window.size() == 1);
  CHECK(f.slot.front_running());

  // The worker ends the first job and reaches for the next ones: it gets
  // none, so the first stays the only job it can be running.
  CHECK_FALSE(f.slot.gate().try_start(second, 1));
  CHECK_FALSE(f.slot.gate().try_start(third, 1));
  CHECK(f.slot.front_running());
}
