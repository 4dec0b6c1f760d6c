// strict_number.hpp — whole numbers read strictly, for the command line and
// for query parameters alike.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace server {

// parse_bounded() is the decimal number `text` spells when it is made of
// ASCII digits only (no sign, space or "0x") and is at most `max`; nothing
// otherwise. Never throws: a request's parameters reach it unchecked.
std::optional<std::uint64_t> parse_bounded(std::string_view text, std::uint64_t max) noexcept;

}  // namespace server
