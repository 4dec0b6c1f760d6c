// json.hpp — the flat JSON objects the server answers with.
//
//   std::string body = server::json_object().add("error", "unknown path").add("status", 404).str();
//   // {"error": "unknown path", "status": 404}
#pragma once

#include <concepts>
#include <string>
#include <string_view>

namespace server {

// json_escape() is `text` as the inside of a JSON string. Bytes from 0x80
// up are escaped as \u00XX one by one, so the result is valid JSON (and
// ASCII) whatever bytes a client sent.
std::string json_escape(std::string_view text);

// json_object builds one flat object, keys in the order added.
class json_object {
 public:
  json_object& add(std::string_view key, std::string_view text);
  template <std::integral Number>
  json_object& add(std::string_view key, Number number) {
    return add_raw(key, std::to_string(number));
  }
  // str() is the finished object.
  std::string str() const;

 private:
  json_object& add_raw(std::string_view key, std::string_view value);
  std::string members_;
};

}  // namespace server
