// Handles of cross-process objects: what happens when one is used where it
// does not belong.
#include "tandem/detail/shared_object.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "support/cpu_tasks.hpp"
#include "tandem/tandem.hpp"

namespace {

const auto bump = tandem::define_task<long(tandem::shared<long>)>(
    "handle.bump", tandem::cpu, [](tandem::shared<long> v) { return v.fetch_add(1) + 1; });
const auto hand_back = tandem::define_task<tandem::shared<long>(tandem::shared<long>)>(
    "handle.hand_back", tandem::cpu, [](tandem::shared<long> v) { return v; });

template <class T>
std::vector<std::byte> encode(const T& value) {
  std::vector<std::byte> bytes(tandem::encoded_size(value));
  tandem::writer out(bytes);
  out.write(value);
  return bytes;
}

}  // namespace

TEST_CASE("a handle of another runtime fails the task with a clear error" * doctest::timeout(60)) {
  tandem::runtime first{tandem::test::lanes(1, 1)};
  tandem::runtime second{tandem::test::lanes(1, 1)};
  tandem::shared<long> mine(first, 0);
  CHECK(first.submit(bump, mine).get() == 1);
  // A decode_error, as the handle's documentation says, and not a
  // remote_error: the task never ran.
  CHECK_THROWS_WITH_AS(second.submit(bump, mine).get(),
                       doctest::Contains("belongs to another runtime"), tandem::decode_error);
  CHECK_THROWS_WITH_AS(second.submit(bump, mine).get(), doctest::Contains("did not run"),
                       tandem::decode_error);
  CHECK(mine.load() == 1);
}

TEST_CASE("a handle that comes back from a worker names the same object" * doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(1, 1)};
  tandem::shared<long> v(rt, 41);
  tandem::shared<long> back = rt.submit(hand_back, v).get();
  back.fetch_add(1);
  CHECK(v.load() == 42);
}

TEST_CASE("a handle to a destroyed object, or of the wrong kind, is refused" *
          doctest::timeout(60)) {
  tandem::runtime rt{tandem::test::lanes(1, 1)};
  std::vector<std::byte> stale;
  {
    tandem::shared<long> gone(rt, 1);
    stale = encode(gone);
    tandem::reader in(stale);
    CHECK(in.read<tandem::shared<long>>().load() == 1);  // fine while it lives
  }
  tandem::shared<long> replacement(rt, 2);  // may reuse the memory
  tandem::reader in(stale);
  CHECK_THROWS_WITH_AS(in.read<tandem::shared<long>>(), doctest::Contains("destroyed"),
                       tandem::decode_error);

  tandem::shared<int> narrow(rt, 3);
  const auto bytes = encode(narrow);
  tandem::reader as_long(bytes);
  CHECK_THROWS_WITH_AS(as_long.read<tandem::shared<long>>(), doctest::Contains("value type"),
                       tandem::decode_error);
  tandem::reader as_mutex(bytes);
  CHECK_THROWS_WITH_AS(as_mutex.read<tandem::process_mutex>(), doctest::Contains("names a"),
                       tandem::decode_error);

  tandem::shared<int> moved_from(rt, 4);
  tandem::shared<int> taker(std::move(moved_from));
  const auto empty = encode(moved_from);
  tandem::reader of_empty(empty);
  CHECK_THROWS_WITH_AS(of_empty.read<tandem::shared<int>>(), doctest::Contains("empty"),
                       tandem::decode_error);
}

TEST_CASE("a full object space is a clear error naming the option" * doctest::timeout(30)) {
  auto options = tandem::test::lanes(1, 1);
  options.shared_memory_bytes = 1 << 20;
  tandem::runtime rt{options};
  CHECK_THROWS_WITH_AS(tandem::channel<long>(rt, 1'000'000),
                       doctest::Contains("shared_memory_bytes"), tandem::error);
  tandem::channel<long> fits(rt, 1000);  // and nothing was lost
  CHECK(fits.capacity() == 1000);
}

TEST_CASE("a space full of small objects says why, and has room again once some are destroyed" *
          doctest::timeout(30)) {
  auto options = tandem::test::lanes(1, 1);
  options.shared_memory_bytes = 1 << 20;
  tandem::runtime rt{options};
  std::vector<tandem::semaphore> made;
  std::string message;
  try {
    for (;;) made.emplace_back(rt, 0);
  } catch (const tandem::error& full) {
    message = full.what();
  }
  INFO(message);
  CHECK(made.size() > 1000);
  CHECK(message.find("tandem::semaphore") != std::string::npos);
  CHECK(message.find("72 bytes") != std::string::npos);  // an 8-byte body and its header
  CHECK(message.find("fragmented") != std::string::npos);
  CHECK(message.find("of its 1 MiB") != std::string::npos);
  CHECK(message.find("runtime_options::shared_memory_bytes") != std::string::npos);
  made.erase(made.end() - 10, made.end());
  tandem::semaphore again(rt, 1);
  CHECK(again.try_acquire());
  CHECK_THROWS_WITH_AS(tandem::shared_buffer(rt, 2 << 20),
                       doctest::Contains("even when it is empty"), tandem::error);
}
