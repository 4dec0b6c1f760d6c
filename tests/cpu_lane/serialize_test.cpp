// Round trips of every supported type, and the reader's distrust of bytes.
#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <span>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "support/plain_structs.hpp"
#include "tandem/serialize.hpp"

namespace {

using tandem::test::tagged;
using tandem::test::vec3;

enum class colour : std::uint8_t { red, green };
struct plain_point {
  int x;
  double y;
  bool operator==(const plain_point&) const = default;
};
struct labelled {
  std::string label;
  std::vector<double> xs;
  bool operator==(const labelled&) const = default;
};
// A user type whose serializer writes nothing, and one that writes a bool.
struct silent {};
struct flag {
  bool operator==(const flag&) const = default;
};
struct holder {
  int held;
};
// A const member only inside a member: assignment is deleted all the same.
struct stamped {
  tagged stamp;
  float weight;
  bool operator==(const stamped&) const = default;
};

template <class T>
T round_trip(const T& value) {
  std::vector<std::byte> bytes(tandem::encoded_size(value));
  tandem::writer out(bytes);
  out.write(value);
  CHECK(out.size() == bytes.size());
  tandem::reader in(bytes);
  T back = in.read<T>();
  in.finish();
  return back;
}

}  // namespace

template <>
struct tandem::serializer<labelled> {
  static void write(tandem::writer& out, const labelled& v) { out.write(v.label, v.xs); }
  static labelled read(tandem::reader& in) {
    auto label = in.read<std::string>();
    auto xs = in.read<std::vector<double>>();
    return {std::move(label), std::move(xs)};
  }
};

template <>
struct tandem::serializer<silent> {
  static void write(tandem::writer&, const silent&) {}
  static silent read(tandem::reader&) { return {}; }
};

template <>
struct tandem::serializer<flag> {
  static void write(tandem::writer& out, const flag&) { out.write(true); }
  static flag read(tandem::reader& in) {
    in.read<bool>();
    return {};
  }
};

TEST_CASE("serialize: arithmetic, enums, plain structs and bool round-trip" *
          doctest::timeout(10)) {
  CHECK(round_trip(42) == 42);
  CHECK(round_trip(-7.25) == -7.25);
  CHECK(round_trip(std::uint64_t{1} << 63) == std::uint64_t{1} << 63);
  CHECK(round_trip(colour::green) == colour::green);
  CHECK(round_trip(plain_point{3, 4.5}) == plain_point{3, 4.5});
  CHECK(round_trip(true));
  CHECK_FALSE(round_trip(false));
}

TEST_CASE("serialize: plain structs need no default constructor, alone or in a vector" *
          doctest::timeout(10)) {
  CHECK(round_trip(vec3{1, 2, 3}) == vec3{1, 2, 3});
  const std::vector<vec3> points{{1, 2, 3}, {4, 5, 6}};
  CHECK(round_trip(points) == points);
  CHECK(round_trip(std::vector<vec3>()).empty());
  CHECK(round_trip(tagged{7, 0.5}) == tagged{7, 0.5});
  const std::vector<tagged> tags{{1, 1.5}, {2, 2.5}};
  CHECK(round_trip(tags) == tags);
}

// An element with a const member cannot take new bytes in place: each is
// made from its own bytes, which need not be aligned for it.
TEST_CASE("serialize: vectors of structs with const members round-trip element by element" *
          doctest::timeout(10)) {
  CHECK(round_trip(std::vector<tagged>()).empty());
  CHECK(round_trip(std::vector<tagged>{{-3, 0.25}}) == std::vector<tagged>{{-3, 0.25}});
  std::vector<tagged> many;
  for (int i = 0; i < 1000; ++i) many.push_back({i, i / 4.0});
  CHECK(round_trip(many) == many);
  const std::pair<char, std::vector<tagged>> unaligned{'x', many};
  CHECK(round_trip(unaligned) == unaligned);
  // Not plain, so decoded one by one too: appended, never assigned.
  const std::vector<std::tuple<tagged, std::string>> mixed{{{1, 0.5}, "a"}, {{2, 1.5}, "bc"}};
  CHECK(round_trip(mixed) == mixed);
  const std::vector<stamped> stamps{{{1, 0.5}, 1.5f}, {{2, 2.5}, 3.5f}};
  CHECK(round_trip(stamps) == stamps);
}

TEST_CASE("serialize: standard containers, nested, round-trip" * doctest::timeout(10)) {
  CHECK(round_trip(std::string("hello")) == "hello");
  CHECK(round_trip(std::string()).empty());
  CHECK(round_trip(std::vector<int>{1, 2, 3}) == std::vector<int>{1, 2, 3});
  CHECK(round_trip(std::vector<bool>{true, false, true}) == std::vector<bool>{true, false, true});
  CHECK(round_trip(std::array<std::string, 2>{"a", "bc"}) == std::array<std::string, 2>{"a", "bc"});
  CHECK(round_trip(std::optional<std::string>("x")) == std::optional<std::string>("x"));
  CHECK(round_trip(std::optional<std::string>()) == std::nullopt);
  CHECK(round_trip(std::pair<std::string, int>("k", 1)) == std::pair<std::string, int>("k", 1));
  const std::tuple<int, std::string, std::vector<double>> t{1, "two", {3.0}};
  CHECK(round_trip(t) == t);
  const std::map<std::string, std::vector<int>> m{{"a", {1}}, {"b", {2, 3}}};
  CHECK(round_trip(m) == m);
  const std::unordered_map<int, std::string> u{{1, "one"}, {2, "two"}};
  CHECK(round_trip(u) == u);
  const std::set<std::string> s{"x", "y"};
  CHECK(round_trip(s) == s);
  const std::vector<std::map<int, std::optional<std::string>>> nested{
      {{1, "a"}, {2, std::nullopt}}};
  CHECK(round_trip(nested) == nested);
}

TEST_CASE("serialize: a user type goes through tandem::serializer" * doctest::timeout(10)) {
  const labelled v{"pts", {1.0, 2.5}};
  CHECK(round_trip(v) == v);
  CHECK(round_trip(std::vector<labelled>{v, v}) == std::vector<labelled>{v, v});
}

TEST_CASE("serialize: a serializer's write() that writes nothing is refused, naming the type" *
          doctest::timeout(10)) {
  // A reader bounds a count by the bytes left, at least one per element:
  // elements of zero bytes could never be read back.
  CHECK_THROWS_WITH_AS(tandem::encoded_size(std::vector<silent>(3)),
                       doctest::Contains("tandem::serializer<(anonymous namespace)::silent>"),
                       tandem::error);
  CHECK_THROWS_AS(tandem::encoded_size(silent{}), tandem::error);
  // Though trivially copyable, it is never copied byte for byte: its
  // serializer wins, in a vector or an array too.
  CHECK_FALSE(tandem::detail::is_plain_v<silent>);
  CHECK_THROWS_AS(tandem::encoded_size(std::array<silent, 2>{}), tandem::error);
  CHECK(round_trip(std::vector<flag>(3)) == std::vector<flag>(3));
  CHECK(round_trip(std::set<std::pair<int, int>>{{1, 2}}) == std::set<std::pair<int, int>>{{1, 2}});
}

TEST_CASE("serialize: views and pointers are never copied byte for byte, alone or nested" *
          doctest::timeout(10)) {
  // Their bytes would arrive as a pointer into the sender's memory. No
  // codec takes them (a static_assert says why), so they do not compile.
  using tandem::detail::is_plain_v;
  CHECK_FALSE(is_plain_v<std::string_view>);
  CHECK_FALSE(is_plain_v<std::span<const long>>);
  CHECK_FALSE(is_plain_v<std::reference_wrapper<int>>);
  CHECK_FALSE(is_plain_v<std::pair<int, std::string_view>>);
  CHECK_FALSE(is_plain_v<std::tuple<double, std::span<int>>>);
  CHECK_FALSE(is_plain_v<std::array<std::string_view, 2>>);
  CHECK_FALSE(is_plain_v<std::optional<std::span<int>>>);
  CHECK_FALSE(is_plain_v<const char*>);
  CHECK_FALSE(is_plain_v<int holder::*>);
  CHECK_FALSE(is_plain_v<std::optional<const char*>>);
  CHECK_FALSE(is_plain_v<std::array<int*, 2>>);
  CHECK_FALSE(is_plain_v<std::pair<int, int holder::*>>);
  CHECK_FALSE(is_plain_v<std::tuple<int, void (*)()>>);
  CHECK_FALSE(is_plain_v<std::array<std::optional<const int* const>, 1>>);
  CHECK_FALSE(is_plain_v<std::optional<const std::string_view>>);
  CHECK(is_plain_v<std::array<int, 4>>);
  CHECK(is_plain_v<std::optional<std::array<int, 2>>>);
}

TEST_CASE("serialize: a large byte vector is one block" * doctest::timeout(10)) {
  std::vector<std::byte> big(1 << 20);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = std::byte(i * 31);
  CHECK(tandem::encoded_size(big) == big.size() + 8);
  CHECK(round_trip(big) == big);
}

TEST_CASE("serialize: the reader refuses truncated, forged and leftover input" *
          doctest::timeout(10)) {
  std::vector<std::byte> bytes(tandem::encoded_size(std::string("hello")));
  tandem::writer(bytes).write(std::string("hello"));

  SUBCASE("truncated") {
    tandem::reader in(std::span<const std::byte>(bytes).first(bytes.size() - 1));
    CHECK_THROWS_AS(in.read<std::string>(), tandem::decode_error);
  }
  SUBCASE("a forged count cannot make it allocate") {
    std::vector<std::byte> forged(8);
    const std::uint64_t huge = ~std::uint64_t{0} / 2;
    std::memcpy(forged.data(), &huge, 8);
    tandem::reader in(forged);
    CHECK_THROWS_AS(in.read<std::vector<std::string>>(), tandem::decode_error);
    tandem::reader again(forged);
    CHECK_THROWS_AS(again.read<std::vector<std::uint64_t>>(), tandem::decode_error);
  }
  SUBCASE("a byte that is no bool") {
    const std::byte two{2};
    tandem::reader in(std::span<const std::byte>(&two, 1));
    CHECK_THROWS_AS(in.read<bool>(), tandem::decode_error);
  }
  SUBCASE("left over bytes") {
    tandem::reader in(bytes);
    CHECK(in.read<std::uint64_t>() == 5);
    CHECK_THROWS_AS(in.finish(), tandem::decode_error);
  }
  SUBCASE("a writer given too small a buffer throws instead of overflowing") {
    std::vector<std::byte> small(3);
    tandem::writer out(small);
    CHECK_THROWS_AS(out.write(std::string("hello")), tandem::error);
  }
}
