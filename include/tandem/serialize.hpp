// serialize.hpp — how arguments and results of cpu tasks cross processes.
//
// A cpu task runs in another process, so its arguments and its result
// travel as bytes. tandem encodes, with no schema and no copy it can avoid:
//  * arithmetic types, enums, and trivially copyable structs (byte for byte:
//    both ends are the same program, forked, so layouts agree; no default
//    constructor is needed; a struct holding pointers is copied as is and
//    its pointers mean nothing in the other process: give it a serializer;
//    pointers, member pointers and views, std::string_view, std::span and
//    std::reference_wrapper, do not compile alone or in a standard
//    container, but a struct of yours holding one is a struct holding a
//    pointer);
//  * std::string, std::vector, std::array, std::optional, std::pair,
//    std::tuple, std::map, std::unordered_map, std::set, nested freely
//    (a vector of trivially copyable elements is one block copy, but for
//    elements that cannot be assigned, such as a struct with a const
//    member: those are copied one by one);
//  * any other type through the one customization point, tandem::serializer:
//
//     struct point { std::string label; std::vector<double> xs; };
//     template <> struct tandem::serializer<point> {
//       static void write(tandem::writer& out, const point& p) { out.write(p.label, p.xs); }
//       static point read(tandem::reader& in) {
//         auto label = in.read<std::string>();         // one statement per field:
//         auto xs = in.read<std::vector<double>>();     // the order is the wire order
//         return {std::move(label), std::move(xs)};
//       }
//     };
//
//   write() must write at least one byte (an empty type can write a bool):
//   the reader bounds a count of elements by the bytes left, one byte each
//   at least, so a write() that writes nothing throws tandem::error.
//
// The reader trusts nothing: a length that runs past the input, a count
// that cannot fit, or bytes left over all throw tandem::decode_error, never
// read outside the input or allocate without bound.
#pragma once

#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tandem/detail/describe.hpp"
#include "tandem/errors.hpp"

namespace tandem {

// decode_error says that bytes could not be read back as the expected type.
class decode_error : public error {
 public:
  using error::error;
};

class writer;
class reader;

// serializer<T> is the customization point: specialize it with
// `static void write(writer&, const T&)` and `static T read(reader&)`.
template <class T>
struct serializer;

template <class T>
concept has_serializer = requires(writer& out, reader& in, const T& value) {
  serializer<T>::write(out, value);
  { serializer<T>::read(in) } -> std::same_as<T>;
};

// writer appends encoded values to a buffer. A writer made without a buffer
// only counts, so a payload is sized first and then written in place (into
// shared memory) with no intermediate copy.
class writer {
 public:
  writer() noexcept = default;
  explicit writer(std::span<std::byte> out) noexcept : out_(out.data()), capacity_(out.size()) {}

  // bytes() appends raw bytes. Writing past the buffer is a logic error of
  // the caller that sized it: it throws rather than overflow.
  void bytes(const void* data, std::size_t length) {
    if (out_ != nullptr) {
      if (length > capacity_ - size_) throw error("tandem::writer: buffer smaller than its count");
      if (length != 0) std::memcpy(out_ + size_, data, length);
    }
    size_ += length;
  }
  // write() appends each value in order.
  template <class... T>
  void write(const T&... values);

  std::size_t size() const noexcept { return size_; }

 private:
  std::byte* out_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
};

// reader consumes encoded values from a buffer it does not own.
class reader {
 public:
  explicit reader(std::span<const std::byte> in) noexcept : in_(in) {}

  // take() returns the next `length` bytes; decode_error if fewer remain.
  std::span<const std::byte> take(std::size_t length) {
    if (length > in_.size() - at_)
      throw decode_error("tandem::reader: " + std::to_string(length) + " bytes wanted, " +
                         std::to_string(in_.size() - at_) + " left");
    const auto piece = in_.subspan(at_, length);
    at_ += length;
    return piece;
  }
  void bytes(void* out, std::size_t length) {
    const auto piece = take(length);
    if (length != 0) std::memcpy(out, piece.data(), length);
  }
  // count() reads an element count and checks that `element_bytes` each
  // could still be in the input (a forged count cannot make us allocate).
  std::size_t count(std::size_t element_bytes);

  template <class T>
  T read();

  std::size_t remaining() const noexcept { return in_.size() - at_; }
  // finish() checks that the input was consumed exactly.
  void finish() const {
    if (remaining() != 0)
      throw decode_error("tandem::reader: " + std::to_string(remaining()) + " bytes left over");
  }

 private:
  std::span<const std::byte> in_;
  std::size_t at_ = 0;
};

namespace detail {

template <class T, template <class...> class Template>
struct is_instance : std::false_type {};
template <template <class...> class Template, class... A>
struct is_instance<Template<A...>, Template> : std::true_type {};
template <class T, template <class...> class Template>
inline constexpr bool is_instance_v = is_instance<T, Template>::value;

template <class T>
struct is_std_array : std::false_type {};
template <class T, std::size_t N>
struct is_std_array<std::array<T, N>> : std::true_type {};

// Pointers, member pointers and views are trivially copyable, but what they
// point at stays behind in this process: no codec takes them, alone or
// inside a pair, tuple, array or optional, however deep (send the value,
// or the owning std::string or std::vector).
template <class T>
inline constexpr bool is_pointer_like_v = std::is_pointer_v<T> || std::is_member_pointer_v<T>;
template <class T>
inline constexpr bool is_view_v = false;
template <class C, class Tr>
inline constexpr bool is_view_v<std::basic_string_view<C, Tr>> = true;
template <class T, std::size_t N>
inline constexpr bool is_view_v<std::span<T, N>> = true;
template <class T>
inline constexpr bool is_view_v<std::reference_wrapper<T>> = true;

// A type with its own serializer is not copied byte for byte either, even
// inside a vector, optional, array, pair or tuple: its serializer wins.
template <class T>
struct holds_non_plain : std::bool_constant<is_pointer_like_v<T> || is_view_v<T>> {};
// holds_non_plain_v: T is, or holds at any depth, a pointer, a view or a
// type with a serializer.
template <class T>
inline constexpr bool holds_non_plain_v =
    has_serializer<std::remove_cv_t<T>> || holds_non_plain<std::remove_cv_t<T>>::value;
template <class... T>
struct holds_non_plain<std::pair<T...>> : std::bool_constant<(holds_non_plain_v<T> || ...)> {};
template <class... T>
struct holds_non_plain<std::tuple<T...>> : std::bool_constant<(holds_non_plain_v<T> || ...)> {};
template <class T, std::size_t N>
struct holds_non_plain<std::array<T, N>> : std::bool_constant<holds_non_plain_v<T>> {};
template <class T>
struct holds_non_plain<std::optional<T>> : std::bool_constant<holds_non_plain_v<T>> {};

// Plain values are copied byte for byte: see the header comment.
template <class T>
inline constexpr bool is_plain_v = std::is_trivially_copyable_v<T> && !holds_non_plain_v<T>;

template <class T>
inline constexpr bool is_block_vector_v = false;
template <class T, class A>
inline constexpr bool is_block_vector_v<std::vector<T, A>> =
    is_plain_v<T> && !std::is_same_v<T, bool>;

template <class T>
inline constexpr bool is_block_string_v = false;
template <class C, class Tr, class A>
inline constexpr bool is_block_string_v<std::basic_string<C, Tr, A>> = true;

template <class T>
inline constexpr bool is_map_v = is_instance_v<T, std::map> || is_instance_v<T, std::unordered_map>;

template <class T>
inline constexpr bool is_element_vector_v = is_instance_v<T, std::vector> && !is_block_vector_v<T>;

template <class T>
struct codec {
  static_assert(sizeof(T) == 0,
                "tandem cannot serialize this type: specialize tandem::serializer<T> (see "
                "tandem/serialize.hpp)");
};

template <class T>
requires(!has_serializer<T> && is_view_v<T>) struct codec<T> {
  static_assert(sizeof(T) == 0,
                "tandem cannot send a view (std::string_view, std::span, "
                "std::reference_wrapper) to another process: what it points at stays in this "
                "one; send a std::string or std::vector");
};

template <class T>
requires(!has_serializer<T> && is_pointer_like_v<T>) struct codec<T> {
  static_assert(sizeof(T) == 0,
                "tandem cannot send a pointer (or member pointer) to another process, alone or "
                "inside an optional, array, pair, tuple or container: its address means nothing "
                "there; send the value it points at (a std::string for a const char*)");
};

// from_bytes() is the T whose bytes start at `bytes`, which need not be
// aligned for T; T needs no default constructor.
template <class T>
T from_bytes(const std::byte* bytes) noexcept {
  std::array<std::byte, sizeof(T)> raw;
  std::memcpy(raw.data(), bytes, sizeof(T));
  return std::bit_cast<T>(raw);
}

// write_elements() writes a container as a count, then its elements.
template <class Container>
void write_elements(writer& out, const Container& items) {
  out.write(static_cast<std::uint64_t>(items.size()));
  for (const auto& item : items) out.write(item);
}

}  // namespace detail

template <class... T>
void writer::write(const T&... values) {
  (detail::codec<T>::write(*this, values), ...);
}

template <class T>
T reader::read() {
  return detail::codec<T>::read(*this);
}

inline std::size_t reader::count(std::size_t element_bytes) {
  const auto n = read<std::uint64_t>();
  const std::size_t least = element_bytes == 0 ? 1 : element_bytes;
  if (n > remaining() / least)
    throw decode_error("tandem::reader: a count of " + std::to_string(n) + " cannot fit the " +
                       std::to_string(remaining()) + " bytes left");
  return static_cast<std::size_t>(n);
}

namespace detail {

// Order matters: a user's serializer wins over every built-in rule.
template <class T>
requires has_serializer<T>
struct codec<T> {
  static void write(writer& out, const T& value) {
    const std::size_t before = out.size();
    serializer<T>::write(out, value);
    if (out.size() == before)
      throw error("tandem::serializer<" + type_name(typeid(T)) +
                  ">::write() wrote no byte: it must write at least one (an empty type can "
                  "write a bool), or a count of them could not be read back");
  }
  static T read(reader& in) { return serializer<T>::read(in); }
};

// A bool is checked: any byte but 0 or 1 would be undefined behaviour.
template <>
struct codec<bool> {
  static void write(writer& out, bool value) { out.write(static_cast<std::uint8_t>(value)); }
  static bool read(reader& in) {
    const auto byte = in.read<std::uint8_t>();
    if (byte > 1) throw decode_error("tandem::reader: " + std::to_string(byte) + " is no bool");
    return byte == 1;
  }
};

template <class T>
requires(!has_serializer<T> && is_plain_v<T> && !std::is_same_v<T, bool>) struct codec<T> {
  static void write(writer& out, const T& value) { out.bytes(&value, sizeof(T)); }
  static T read(reader& in) { return from_bytes<T>(in.take(sizeof(T)).data()); }
};

template <class T>
requires(!has_serializer<T> && (is_block_vector_v<T> || is_block_string_v<T>)) struct codec<T> {
  using element = typename T::value_type;
  static void write(writer& out, const T& items) {
    out.write(static_cast<std::uint64_t>(items.size()));
    out.bytes(items.data(), items.size() * sizeof(element));
  }
  static T read(reader& in) {
    const std::size_t n = in.count(sizeof(element));
    const auto block = in.take(n * sizeof(element));
    // Bytes copied over a live element are an assignment, valid only where
    // assignment is trivial. A const (or reference) member, however deep,
    // deletes the assignment: bytes copied over it would modify a const
    // object, and the vector's pointers would not reach the object they
    // leave there (C++20 [basic.life]). Such elements are made one by one.
    if constexpr (std::is_trivially_copy_assignable_v<element>)
      return copied_over(n, block);
    else
      return made_one_by_one(n, block);
  }

 private:
  // copied_over() fills the items with the first element, then overwrites
  // them in one copy: an element needs no default constructor.
  static T copied_over(std::size_t n, std::span<const std::byte> block) {
    if (n == 0) return T();
    T items(n, from_bytes<element>(block.data()));
    std::memcpy(items.data(), block.data(), block.size());
    return items;
  }
  static T made_one_by_one(std::size_t n, std::span<const std::byte> block) {
    T items;
    items.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      items.push_back(from_bytes<element>(block.data() + i * sizeof(element)));
    return items;
  }
};

template <class T>
requires(!has_serializer<T> && !is_plain_v<T> &&
         (is_element_vector_v<T> || is_instance_v<T, std::set>)) struct codec<T> {
  static void write(writer& out, const T& items) { write_elements(out, items); }
  static T read(reader& in) {
    const std::size_t n = in.count(1);
    T items;
    if constexpr (requires { items.reserve(n); }) items.reserve(n);
    // A vector appends (insert() would need assignable elements, which a
    // const member, or a tuple of such, does not allow).
    for (std::size_t i = 0; i < n; ++i) {
      if constexpr (is_instance_v<T, std::set>)
        items.insert(items.end(), in.read<typename T::value_type>());
      else
        items.push_back(in.read<typename T::value_type>());
    }
    return items;
  }
};

template <class T>
requires(!has_serializer<T> && !is_plain_v<T> && is_std_array<T>::value) struct codec<T> {
  static void write(writer& out, const T& items) {
    for (const auto& item : items) out.write(item);
  }
  static T read(reader& in) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      // Braced initialization evaluates left to right: wire order.
      return T{((void)I, in.read<typename T::value_type>())...};
    }
    (std::make_index_sequence<std::tuple_size_v<T>>{});
  }
};

template <class T>
requires(!has_serializer<T> && !is_plain_v<T> && is_map_v<T>) struct codec<T> {
  static void write(writer& out, const T& items) {
    out.write(static_cast<std::uint64_t>(items.size()));
    for (const auto& [key, value] : items) out.write(key, value);
  }
  static T read(reader& in) {
    const std::size_t n = in.count(1);
    T items;
    for (std::size_t i = 0; i < n; ++i) {
      auto key = in.read<typename T::key_type>();
      auto value = in.read<typename T::mapped_type>();
      items.emplace(std::move(key), std::move(value));
    }
    return items;
  }
};

template <class T>
requires(!has_serializer<T> && !is_plain_v<T> && is_instance_v<T, std::optional>) struct codec<T> {
  static void write(writer& out, const T& value) {
    out.write(value.has_value());
    if (value) out.write(*value);
  }
  static T read(reader& in) {
    if (!in.read<bool>()) return std::nullopt;
    return in.read<typename T::value_type>();
  }
};

template <class T>
requires(!has_serializer<T> && !is_plain_v<T> &&
         (is_instance_v<T, std::pair> || is_instance_v<T, std::tuple>)) struct codec<T> {
  static void write(writer& out, const T& value) {
    std::apply([&](const auto&... parts) { out.write(parts...); }, value);
  }
  static T read(reader& in) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return T{in.read<std::tuple_element_t<I, T>>()...};
    }
    (std::make_index_sequence<std::tuple_size_v<T>>{});
  }
};

}  // namespace detail

// encoded_size() is the number of bytes write(values...) produces.
template <class... T>
std::size_t encoded_size(const T&... values) {
  writer counter;
  counter.write(values...);
  return counter.size();
}

}  // namespace tandem
