// shared_counter — the seeds' shared counter (multiprocessing.Value with
// get_lock()): four cpu tasks in worker processes each add 1 to one
// counter under its lock; the program reads 4. Then each adds 100,000
// more with an atomic fetch_add, no lock needed.
#include <tandem/tandem.hpp>

#include <cstdio>
#include <vector>

#include "common/command_line.hpp"

const auto add_one = tandem::define_task<void(tandem::shared<long>)>(
    "seeds.add_one", tandem::cpu,
    [](tandem::shared<long> counter) { counter.with_lock([](long& value) { ++value; }); });
const auto add_many = tandem::define_task<void(tandem::shared<long>, int)>(
    "seeds.add_many", tandem::cpu, [](tandem::shared<long> counter, int times) {
      for (int i = 0; i < times; ++i) counter.fetch_add(1);
    });

const char* const usage =
    "usage: shared_counter\n"
    "4 cpu tasks add 1 to a shared<long> under its lock, then 100000 each with\n"
    "fetch_add. Exits 1 unless the counter reads 4, then 400004.\n";

int run(const examples::no_options&) {
  tandem::runtime rt;
  tandem::shared<long> counter(rt, 0);  // lives in memory the workers share

  std::vector<tandem::future<void>> done;
  for (int i = 0; i < 4; ++i) done.push_back(rt.submit(add_one, counter));
  for (auto& f : done) f.get();
  const long after_locked = counter.load();
  std::printf("4 tasks each added 1 under the lock: %ld\n", after_locked);

  done.clear();
  for (int i = 0; i < 4; ++i) done.push_back(rt.submit(add_many, counter, 100'000));
  for (auto& f : done) f.get();
  std::printf("then 4 x 100000 atomic increments:   %ld\n", counter.load());
  return after_locked == 4 && counter.load() == 400'004 ? 0 : 1;
}

int main(int argc, char** argv) {
  return examples::command_line_main("shared_counter", argc, argv, examples::parse_no_options,
                                     usage, run);
}
