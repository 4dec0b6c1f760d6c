// json.cpp — escaping by RFC 8259: quote, backslash and control characters
// must be escaped; escaping every byte above 0x7f too keeps a body valid
// even when it echoes bytes that are not UTF-8.
#include "json.hpp"

#include <cstdio>

namespace server {

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte > 0x7e) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", unsigned{byte});
      out += escaped;
    } else {
      out += c;
    }
  }
  return out;
}

json_object& json_object::add(std::string_view key, std::string_view text) {
  return add_raw(key, '"' + json_escape(text) + '"');
}

json_object& json_object::add_raw(std::string_view key, std::string_view value) {
  if (!members_.empty()) members_ += ", ";
  members_ += '"' + json_escape(key) + "\": ";
  members_ += value;
  return *this;
}

std::string json_object::str() const { return '{' + members_ + '}'; }

}  // namespace server
