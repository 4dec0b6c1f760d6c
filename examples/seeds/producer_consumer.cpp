// producer_consumer — the seeds' producer/consumer over a queue: a cpu
// task in a worker process produces items into a bounded channel; an io
// task in this process consumes them. A full channel makes the producer
// wait (backpressure); close() tells the consumer there is no more.
#include <tandem/tandem.hpp>

#include <cstdio>

#include "common/command_line.hpp"

struct item {
  int number;
  double square_root;
};

const auto produce = tandem::define_task<int(tandem::channel<item>, int)>(
    "seeds.produce", tandem::cpu, [](tandem::channel<item> out, int count) {
      for (int i = 1; i <= count; ++i) out.send({i, __builtin_sqrt(i)});
      out.close();
      return count;
    });

const char* const usage =
    "usage: producer_consumer\n"
    "A cpu task sends 1000 items through a channel of 16 to an io task that\n"
    "counts them. Exits 1 unless every item arrives.\n";

int run(const examples::no_options&) {
  tandem::runtime rt;
  tandem::channel<item> items(rt, 16);  // room for 16: the producer cannot run far ahead

  auto produced = rt.submit(produce, items, 1000);
  // The consumer waits on the channel, so it is marked io_blocking: it
  // gets a thread of its own instead of holding an io worker.
  auto consumed = rt.submit(tandem::io_blocking, [items]() mutable {
    int count = 0;
    double sum = 0;
    while (auto next = items.receive()) {
      ++count;
      sum += next->square_root;
      if (next->number % 250 == 0) std::printf("consumer got item %d\n", next->number);
    }
    std::printf("consumer: %d items, sum of square roots %.3f\n", count, sum);
    return count;
  });
  const int sent = produced.get();
  const int received = consumed.get();
  std::printf("producer sent %d, consumer received %d\n", sent, received);
  return sent == received ? 0 : 1;
}

int main(int argc, char** argv) {
  return examples::command_line_main("producer_consumer", argc, argv, examples::parse_no_options,
                                     usage, run);
}
