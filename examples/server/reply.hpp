// reply.hpp — the HTTP messages the server reads and writes, and the JSON
// error body every failure is answered with:
//
//   {"error": "unknown path '/nope'", "status": 404}
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>
#include <string_view>

namespace server {

namespace http = boost::beast::http;

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// reply is an answer before it is dressed as a response.
struct reply {
  http::status status = http::status::ok;
  std::string body;  // JSON, unless content_type says otherwise
  std::string_view content_type = "application/json";
  std::string_view allow = "";  // a 405's Allow header: the methods the path answers
};

// error_reply() is `status` with the JSON error body naming `message`.
reply error_reply(http::status status, std::string_view message);

// to_response() dresses `r` for a client speaking HTTP/1.`version`
// (10 or 11); keep_alive says whether the connection stays open after it.
response to_response(reply r, unsigned version, bool keep_alive);

}  // namespace server
