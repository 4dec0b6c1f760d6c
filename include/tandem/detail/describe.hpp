// describe.hpp — types and exceptions as text, the form in which an
// exception travels (remote_error). Not part of the public API.
#pragma once

#include <cstddef>
#include <string>
#include <typeinfo>
#include <utility>

namespace tandem::detail {

// The longest type name or message a remote_error carries, in bytes: a
// longer one is cut on a UTF-8 character boundary and ends with "…".
inline constexpr std::size_t max_error_text = 400;

// type_name() is `type`'s readable (demangled) name, e.g. "std::out_of_range".
std::string type_name(const std::type_info& type);

// describe_current_exception() is (type name, what()) of the exception being
// handled, each cut to max_error_text; any type, not only std::exception
// (what() is then "").
std::pair<std::string, std::string> describe_current_exception();

// rethrow_as_remote() throws, for the exception being handled, the
// remote_error that a worker process running `task` would have reported.
[[noreturn]] void rethrow_as_remote(const std::string& task);

}  // namespace tandem::detail
