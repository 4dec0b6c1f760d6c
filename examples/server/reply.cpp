// reply.cpp — every response carries a length and a type, so a client
// never has to guess where a body ends (keep-alive needs that).
#include "reply.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/beast/version.hpp>

#include <utility>

#include "json.hpp"

namespace server {

reply error_reply(http::status status, std::string_view message) {
  return {status, json_object().add("error", message).add("status", unsigned(status)).str()};
}

response to_response(reply r, unsigned version, bool keep_alive) {
  response res{r.status, version};
  res.set(http::field::server, "tandem-server");
  // Beast 1.74 takes boost::string_view, which std::string_view does not convert to.
  res.set(http::field::content_type,
          boost::beast::string_view(r.content_type.data(), r.content_type.size()));
  if (!r.allow.empty())
    res.set(http::field::allow, boost::beast::string_view(r.allow.data(), r.allow.size()));
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

}  // namespace server
