// task.hpp — defined tasks: what may run in a cpu worker process.
//
// A worker process cannot receive a closure, so cpu work is declared once,
// by name, before any runtime exists (at namespace scope is the usual
// place), and a submission carries the task's number and its serialized
// arguments (see serialize.hpp):
//
//   const auto fib = tandem::define_task<long(int)>("fib", tandem::cpu,
//                                                   [](int n) { return slow_fib(n); });
//   tandem::runtime rt;
//   tandem::future<long> a = rt.submit(fib, 32);            // its default lane: a worker
//   tandem::future<long> b = rt.submit(tandem::io, fib, 20);  // this once: an io thread
//
// The default affinity is tandem::cpu, tandem::io or tandem::any (the lane
// that starts it soonest; an exception arrives as remote_error on either
// lane, see runtime::submit()). Every worker is forked after the tasks are
// defined, so every worker knows every task.
//
// Rules, each checked with a clear tandem::error rather than undefined
// behaviour: a name is defined once; no task is defined while a runtime
// exists (its workers could not know it). At namespace scope such an error
// ends the program at start-up with its message, like a duplicate symbol.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "tandem/affinity.hpp"
#include "tandem/detail/describe.hpp"
#include "tandem/errors.hpp"
#include "tandem/serialize.hpp"

namespace tandem {

namespace detail {

// result_sink is where a worker writes an encoded result: it hands out
// `length` bytes (in the completion ring, or in the worker's shared heap).
class result_sink {
 public:
  virtual std::span<std::byte> reserve(std::size_t length) = 0;

 protected:
  ~result_sink() = default;
};

// arguments_unreadable is the decode_error met reading a task's arguments
// in a worker (not one the task threw): the worker reports it as such.
class arguments_unreadable : public decode_error {
 public:
  using decode_error::decode_error;
};

// each_outcomes<R> is how a worker answers a chunk of calls (invoke_each):
// every call's value in order (empty where it threw; a void task's is
// `true`), and what each empty one threw, in the same order, as (type
// name, what()).
template <class R>
using each_value_t = std::conditional_t<std::is_void_v<R>, bool, R>;
template <class R>
using each_outcomes = std::pair<std::vector<std::optional<each_value_t<R>>>,
                                std::vector<std::pair<std::string, std::string>>>;

// task_entry is a defined task as the registry keeps it.
class task_entry {
 public:
  task_entry(std::string name, affinity lane, const std::type_info& signature)
      : name_(std::move(name)), lane_(lane), signature_(signature) {}
  task_entry(const task_entry&) = delete;
  task_entry& operator=(const task_entry&) = delete;
  virtual ~task_entry() = default;

  // invoke() decodes the arguments, runs the function and encodes its
  // result into `sink`. Exceptions (the task's own, arguments_unreadable)
  // escape.
  virtual void invoke(std::span<const std::byte> arguments, result_sink& sink) const = 0;
  // invoke_each() decodes an encoded vector of argument tuples, runs the
  // function once for each, in order, and encodes their each_outcomes: a
  // call that throws fails alone (runtime::map()'s chunks).
  virtual void invoke_each(std::span<const std::byte> arguments, result_sink& sink) const = 0;

  const std::string& name() const noexcept { return name_; }
  affinity default_affinity() const noexcept { return lane_; }
  const std::type_info& signature() const noexcept { return signature_; }
  std::uint32_t index() const noexcept { return index_; }
  void set_index(std::uint32_t index) noexcept { index_ = index; }

 private:
  std::string name_;
  affinity lane_;
  const std::type_info& signature_;
  std::uint32_t index_ = 0;
};

template <class Signature>
class typed_entry;

template <class R, class... A>
class typed_entry<R(A...)> : public task_entry {
 public:
  using task_entry::task_entry;
  virtual R call(std::decay_t<A>... arguments) const = 0;

  using arguments_tuple = std::tuple<std::decay_t<A>...>;

  void invoke(std::span<const std::byte> arguments, result_sink& sink) const final {
    arguments_tuple values = decode_arguments(arguments, [](reader& in) {
      // Braced initialization reads the arguments left to right: wire order.
      return arguments_tuple{in.read<std::decay_t<A>>()...};
    });
    if constexpr (std::is_void_v<R>) {
      apply_call(std::move(values));
      sink.reserve(0);
    } else {
      write_result(apply_call(std::move(values)), sink);
    }
  }

  void invoke_each(std::span<const std::byte> arguments, result_sink& sink) const final {
    auto calls = decode_arguments(
        arguments, [](reader& in) { return in.read<std::vector<arguments_tuple>>(); });
    each_outcomes<R> outcomes;
    outcomes.first.reserve(calls.size());
    for (auto& call_arguments : calls) {
      try {
        if constexpr (std::is_void_v<R>) {
          apply_call(std::move(call_arguments));
          outcomes.first.emplace_back(true);
        } else {
          outcomes.first.emplace_back(apply_call(std::move(call_arguments)));
        }
      } catch (...) {
        outcomes.first.emplace_back();
        outcomes.second.push_back(describe_current_exception());
      }
    }
    write_result(outcomes, sink);
  }

 private:
  R apply_call(arguments_tuple&& values) const {
    return std::apply([this](auto&&... a) { return call(std::move(a)...); }, std::move(values));
  }
  template <class T>
  static void write_result(const T& result, result_sink& sink) {
    writer out(sink.reserve(encoded_size(result)));
    out.write(result);
  }
  template <class Read>
  static auto decode_arguments(std::span<const std::byte> arguments, Read read) {
    try {
      reader in(arguments);
      auto values = read(in);
      in.finish();
      return values;
    } catch (const decode_error& e) {
      throw arguments_unreadable(e.what());
    }
  }
};

template <class F, class Signature>
class task_impl;

template <class F, class R, class... A>
class task_impl<F, R(A...)> final : public typed_entry<R(A...)> {
 public:
  task_impl(std::string name, affinity lane, F fn)
      : typed_entry<R(A...)>(std::move(name), lane, typeid(R(A...))), fn_(std::move(fn)) {}
  R call(std::decay_t<A>... arguments) const override {
    return std::invoke(fn_, std::move(arguments)...);
  }

 private:
  F fn_;
};

// register_task() adds `entry` to the registry (which owns it from then on)
// and numbers it; throws tandem::error for a duplicate name or while a
// runtime exists (the entry is then destroyed).
void register_task(std::unique_ptr<task_entry> entry);
// find_task_entry() is the task of that name, or nullptr.
const task_entry* find_task_entry(std::string_view name) noexcept;

// task_signature_t<Signature> is the signature a task is known by: a const
// result type (which could not be moved into its future) and noexcept are
// dropped, as neither changes what crosses processes.
template <class Signature>
struct task_signature {
  static_assert(std::is_function_v<Signature> && !std::is_function_v<Signature>,
                "a task's signature is a function type, result(parameters): e.g. long(int)");
};
template <class R, class... A>
struct task_signature<R(A...)> {
  using type = std::remove_cv_t<R>(A...);
};
template <class R, class... A>
struct task_signature<R(A...) noexcept> {
  using type = std::remove_cv_t<R>(A...);
};
template <class Signature>
using task_signature_t = typename task_signature<Signature>::type;

}  // namespace detail

template <class Signature>
class task_ref;

namespace detail {

template <class T>
struct is_task_ref : std::false_type {};
template <class Signature>
struct is_task_ref<task_ref<Signature>> : std::true_type {};

}  // namespace detail

namespace detail {
inline constexpr const char* empty_task_ref =
    "this task_ref is empty (default-constructed): make one with tandem::define_task or "
    "tandem::find_task";
}  // namespace detail

// task_ref is a handle to a defined task: cheap to copy, valid for the
// whole program. Calling it runs the function right here, in this thread.
template <class R, class... A>
class task_ref<R(A...)> {
 public:
  using result_type = R;

  // An empty task_ref (e.g. runtime_options::worker_init when unset). It
  // is named "(empty task_ref)" and declares tandem::cpu; calling it
  // throws tandem::error, and submitting it gives a future holding one.
  task_ref() noexcept = default;

  explicit operator bool() const noexcept { return entry_ != nullptr; }
  const std::string& name() const noexcept {
    static const std::string empty_name = "(empty task_ref)";
    return entry_ ? entry_->name() : empty_name;
  }
  affinity default_affinity() const noexcept {
    return entry_ ? entry_->default_affinity() : affinity::cpu;
  }

  template <class... U>
  requires std::invocable<R (*)(A...), U...> R operator()(U&&... arguments) const {
    if (!entry_) throw error(detail::empty_task_ref);
    return entry_->call(std::forward<U>(arguments)...);
  }

  // entry() is the task's registration; only for a task_ref that is not empty.
  const detail::typed_entry<R(A...)>& entry() const noexcept { return *entry_; }

 private:
  template <class Signature, class Affinity, class F>
  friend task_ref<detail::task_signature_t<Signature>> define_task(std::string name, Affinity lane,
                                                                   F&& fn);
  template <class Signature>
  friend task_ref<detail::task_signature_t<Signature>> find_task(std::string_view name);

  explicit task_ref(const detail::typed_entry<R(A...)>& entry) noexcept : entry_(&entry) {}

  const detail::typed_entry<R(A...)>* entry_ = nullptr;
};

// define_task() registers `fn` as the task `name` with signature
// `Signature` (e.g. long(int)) and default affinity `lane` (tandem::io,
// tandem::cpu or tandem::any). Arguments and result must be serializable
// (see serialize.hpp). A const result type and noexcept are dropped:
// define_task<const std::string(int) noexcept> is a task_ref<std::string(int)>.
// Throws tandem::error for a duplicate name or when a runtime exists.
template <class Signature, class Affinity, class F>
task_ref<detail::task_signature_t<Signature>> define_task(std::string name, Affinity lane, F&& fn) {
  using known_as = detail::task_signature_t<Signature>;
  auto entry = std::make_unique<detail::task_impl<std::decay_t<F>, known_as>>(
      std::move(name), affinity_of(lane), std::forward<F>(fn));
  const auto& typed = *entry;
  detail::register_task(std::move(entry));
  return task_ref<known_as>(typed);
}

// find_task() is the defined task `name`, which must have this signature
// (a const result type and noexcept dropped, as by define_task()); throws
// tandem::unknown_task otherwise.
template <class Signature>
task_ref<detail::task_signature_t<Signature>> find_task(std::string_view name) {
  using known_as = detail::task_signature_t<Signature>;
  const detail::task_entry* entry = detail::find_task_entry(name);
  if (entry == nullptr) throw unknown_task("no task named '" + std::string(name) + "' is defined");
  if (entry->signature() != typeid(known_as))
    throw unknown_task("task '" + std::string(name) +
                       "' is defined with another signature than the one asked for");
  return task_ref<known_as>(static_cast<const detail::typed_entry<known_as>&>(*entry));
}

}  // namespace tandem
