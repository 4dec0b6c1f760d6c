// strict_number.cpp — from_chars alone would accept what a strict reader
// must refuse (a partial parse), so the digits are checked first.
#include "strict_number.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>

namespace server {

std::optional<std::uint64_t> parse_bounded(std::string_view text, std::uint64_t max) noexcept {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (text.empty() || !std::all_of(text.begin(), text.end(), digit)) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

}  // namespace server
