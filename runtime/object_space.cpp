#include "runtime/object_space.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "ipc/error.hpp"
#include "tandem/errors.hpp"

namespace tandem::detail {
namespace {

static_assert(sizeof(object_header) == 64, "bodies start 64-aligned right after their header");

// The spaces alive in this (parent) process, for handles coming back from
// workers. Rarely used, so a plain lock.
std::mutex registry_mutex;
std::vector<std::weak_ptr<object_space>>& registry() {
  static std::vector<std::weak_ptr<object_space>> spaces;
  return spaces;
}

// In a worker: the one space it may resolve handles in. Read without a
// lock because the registry's lock may have been held by another thread at
// fork time.
object_space* entered_space = nullptr;

std::uint64_t random_token() {
  std::random_device source;
  return (std::uint64_t{source()} << 32) | source();
}

const char* kind_name(object_kind kind) {
  switch (kind) {
    case object_kind::shared_value:
      return "tandem::shared";
    case object_kind::channel:
      return "tandem::channel";
    case object_kind::process_mutex:
      return "tandem::process_mutex";
    case object_kind::condition:
      return "tandem::condition";
    case object_kind::semaphore:
      return "tandem::semaphore";
    case object_kind::event:
      return "tandem::event";
    case object_kind::barrier:
      return "tandem::barrier";
    case object_kind::shared_buffer:
      return "tandem::shared_buffer";
  }
  return "an unknown kind of object";
}

// refused() is the error for a handle that does not resolve. Its text is
// built only then: every handle that crosses to or from a worker is
// checked, and building it costs an allocation.
decode_error refused(const object_ref& ref, const std::string& why) {
  return decode_error(std::string(kind_name(ref.kind)) + " handle " + why);
}

std::shared_ptr<object_space> find_registered(std::uint64_t token) {
  std::lock_guard lock(registry_mutex);
  for (const auto& entry : registry())
    if (auto space = entry.lock(); space && space->token() == token) return space;
  return nullptr;
}

}  // namespace

object_space::object_space(std::size_t bytes)
    : memory_({bytes, ipc::segment_backing::anonymous}), token_(random_token()) {}

std::shared_ptr<object_space> object_space::create(std::size_t bytes) {
  std::shared_ptr<object_space> space;
  try {
    space.reset(new object_space(bytes));
  } catch (const ipc::ipc_error& failure) {
    throw error(std::string("tandem::runtime: cannot map the shared object space "
                            "(runtime_options::shared_memory_bytes): ") +
                failure.what());
  }
  std::lock_guard lock(registry_mutex);
  std::erase_if(registry(), [](const auto& entry) { return entry.expired(); });
  registry().push_back(space);
  return space;
}

object_space::~object_space() {
  std::lock_guard lock(registry_mutex);
  std::erase_if(registry(), [](const auto& entry) { return entry.expired(); });
}

object_header* object_space::allocate(object_kind kind, std::uint32_t tag, std::size_t bytes) {
  if (bytes > memory_.size() - sizeof(object_header)) throw too_large(kind, bytes);
  void* block = nullptr;
  try {
    block = memory_.allocate(sizeof(object_header) + bytes, alignof(object_header));
  } catch (const ipc::ipc_error&) {
    throw full(kind, bytes);
  }
  std::memset(block, 0, sizeof(object_header) + bytes);
  auto* header = new (block) object_header{};
  header->token = token_;
  header->kind = kind;
  header->tag = tag;
  header->owners.store(1, std::memory_order_relaxed);
  header->serial.store(next_serial_.fetch_add(1, std::memory_order_relaxed),
                       std::memory_order_release);
  return header;
}

// full() says why no room was found: the allocator was asked for the
// header too, and its free total may be in pieces too small for that. (The
// allocator puts 16 bytes of its own before each block, so a 72-byte
// object placed at a multiple of 64 ends 48 bytes before the next one can
// start: that gap is free, but fits nothing.)
error object_space::full(object_kind kind, std::size_t bytes) const {
  const std::size_t asked = sizeof(object_header) + bytes;
  const std::size_t free = memory_.free_bytes();
  std::string why =
      std::string(kind_name(kind)) + ": the runtime's shared object space has no free piece of " +
      ipc::size_text(asked) + " aligned to 64 (" + std::to_string(bytes) + " for the object, " +
      std::to_string(sizeof(object_header)) + " for its header): ";
  if (free >= asked)
    why += ipc::size_text(free) + " of its " + ipc::size_text(memory_.size()) +
           " are free in all, but fragmented into smaller pieces";
  else
    why +=
        "only " + ipc::size_text(free) + " of its " + ipc::size_text(memory_.size()) + " are free";
  return error(why +
               " (destroy objects no longer used, or raise "
               "runtime_options::shared_memory_bytes)");
}

error object_space::too_large(object_kind kind, std::size_t bytes) const {
  return error(std::string(kind_name(kind)) + ": an object of " + ipc::size_text(bytes) +
               " does not fit in the runtime's shared object space of " +
               ipc::size_text(memory_.size()) +
               " even when it is empty (raise "
               "runtime_options::shared_memory_bytes)");
}

void object_space::release(object_header* header) noexcept {
  if (header->owners.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  header->serial.store(0, std::memory_order_relaxed);
  memory_.deallocate(header);
}

object_ref object_space::describe(const object_header* header) const noexcept {
  const auto offset =
      static_cast<std::uint64_t>(reinterpret_cast<const std::byte*>(header) - memory_.base());
  return {token_, offset, header->serial.load(std::memory_order_relaxed), header->kind,
          header->tag};
}

void object_space::enter_as_worker() noexcept { entered_space = this; }

resolved_object object_space::resolve(const object_ref& ref) {
  if (ref.serial == 0) throw refused(ref, "is empty (it was moved from)");
  if (entered_space != nullptr) {
    if (ref.token != entered_space->token_)
      throw refused(ref, "belongs to another runtime than this worker's");
    return entered_space->check(ref);
  }
  auto space = find_registered(ref.token);
  if (!space) throw refused(ref, "names the object space of a runtime that no longer exists");
  auto found = space->check(ref);
  found.keep = std::move(space);
  return found;
}

resolved_object object_space::check(const object_ref& ref) const {
  if (ref.offset % alignof(object_header) != 0 || ref.offset > memory_.size() ||
      memory_.size() - ref.offset < sizeof(object_header))
    throw refused(ref, "points outside its object space");
  auto* header = reinterpret_cast<object_header*>(memory_.base() + ref.offset);
  if (ref.serial == 0 || header->serial.load(std::memory_order_acquire) != ref.serial)
    throw refused(
        ref,
        "names an object that was destroyed (keep a handle in the submitting process until "
        "the tasks using it are done)");
  if (header->kind != ref.kind)
    throw refused(ref, std::string("names a ") + kind_name(header->kind));
  if (header->tag != ref.tag)
    throw refused(ref, "names an object of another value type (" + std::to_string(header->tag) +
                           " bytes, not " + std::to_string(ref.tag) + ")");
  return {const_cast<object_space*>(this), nullptr, header};
}

}  // namespace tandem::detail
