#include "ipc/segment.hpp"

#include "ipc/error.hpp"
#include "ipc/memfd.hpp"

#include <sys/mman.h>

namespace tandem::ipc {
namespace {

// Below this the segment manager's own header and one ring do not fit.
constexpr std::size_t minimum_size = std::size_t{64} << 10;

void* map_memfd(std::size_t size) {
  const memfd memory("tandem-ipc", size);
  // The mapping keeps the memory alive; the descriptor closes at scope end,
  // so the segment holds no fd a child could leak.
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, memory.fd(), 0);
  if (base == MAP_FAILED) throw_errno("segment: mmap of a memfd of " + size_text(size));
  return base;
}

// The mapping is reserved, not committed (MAP_NORESERVE): a segment holds
// heaps sized for the largest payload, of which a program touches a little,
// so committing it all would refuse (under the kernel's overcommit rules)
// worker counts whose real use fits easily. Pages are taken as touched.
void* map_anonymous(std::size_t size) {
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) throw_errno("segment: anonymous shared mapping of " + size_text(size));
  return base;
}

std::byte* map(const segment_options& options) {
  if (options.size < minimum_size)
    throw ipc_error("segment: size " + size_text(options.size) + " is below the minimum of " +
                    size_text(minimum_size));
  void* base = options.backing == segment_backing::memfd ? map_memfd(options.size)
                                                         : map_anonymous(options.size);
  return static_cast<std::byte*>(base);
}

}  // namespace

segment::segment(const segment_options& options) : base_(map(options)), size_(options.size) {
  try {
    manager_ = boost::interprocess::managed_external_buffer(boost::interprocess::create_only, base_,
                                                            size_);
  } catch (const std::exception& failure) {
    munmap(base_, size_);
    throw ipc_error(std::string("segment: cannot place the segment manager: ") + failure.what());
  }
}

segment::~segment() { munmap(base_, size_); }

void* segment::allocate(std::size_t bytes, std::size_t alignment) {
  void* block = manager_.allocate_aligned(bytes, alignment, std::nothrow);
  if (block == nullptr)
    throw ipc_error("segment: cannot carve " + size_text(bytes) + " aligned to " +
                    std::to_string(alignment) + " from a segment of " + size_text(size_) +
                    " with " + size_text(free_bytes()) + " free");
  return block;
}

}  // namespace tandem::ipc
