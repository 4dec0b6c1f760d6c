#include "tandem/detail/shared_object.hpp"

#include <utility>

#include "runtime/object_space.hpp"
#include "runtime/scheduler.hpp"
#include "tandem/runtime.hpp"

namespace tandem::detail {
namespace {

void* body_of(object_header* header) noexcept { return header + 1; }

}  // namespace

object_handle::object_handle(runtime& rt, object_kind kind, std::uint32_t tag, std::size_t bytes)
    : space_(&rt.scheduler_->objects()),
      owner_(space_->shared_from_this()),
      header_(space_->allocate(kind, tag, bytes)),
      body_(body_of(header_)) {}

object_handle::object_handle(resolved_object found) noexcept
    : space_(found.space),
      owner_(std::move(found.keep)),
      header_(found.header),
      body_(body_of(header_)) {
  if (owner_) header_->owners.fetch_add(1, std::memory_order_relaxed);
}

object_handle::object_handle(const object_handle& other) noexcept
    : space_(other.space_), owner_(other.owner_), header_(other.header_), body_(other.body_) {
  if (owner_) header_->owners.fetch_add(1, std::memory_order_relaxed);
}

object_handle& object_handle::operator=(const object_handle& other) noexcept {
  if (this != &other) *this = object_handle(other);
  return *this;
}

object_handle::object_handle(object_handle&& other) noexcept
    : space_(std::exchange(other.space_, nullptr)),
      owner_(std::move(other.owner_)),
      header_(std::exchange(other.header_, nullptr)),
      body_(std::exchange(other.body_, nullptr)) {}

object_handle& object_handle::operator=(object_handle&& other) noexcept {
  if (this != &other) {
    release();
    space_ = std::exchange(other.space_, nullptr);
    owner_ = std::move(other.owner_);
    header_ = std::exchange(other.header_, nullptr);
    body_ = std::exchange(other.body_, nullptr);
  }
  return *this;
}

object_handle::~object_handle() { release(); }

void object_handle::release() noexcept {
  if (owner_) owner_->release(header_);
  owner_.reset();
}

void object_handle::write(writer& out) const {
  // A moved-from handle names nothing: serial 0 is never valid, so read()
  // refuses it with a clear error.
  const object_ref ref = header_ ? space_->describe(header_) : object_ref{};
  out.write(ref.token, ref.offset, ref.serial);
}

object_handle object_handle::read(reader& in, object_kind kind, std::uint32_t tag) {
  object_ref ref{};
  ref.token = in.read<std::uint64_t>();
  ref.offset = in.read<std::uint64_t>();
  ref.serial = in.read<std::uint64_t>();
  ref.kind = kind;
  ref.tag = tag;
  return object_handle(object_space::resolve(ref));
}

}  // namespace tandem::detail
