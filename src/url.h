// Request-target helpers: percent-decoding and query-string parameters.
// Pure functions over string views.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sse {

// Decodes %XX escapes. Returns nullopt for a malformed escape ("%", "%4",
// "%zz") and for an escape that decodes to NUL. '+' is left as is (it only
// means space in form bodies and query strings, see query_param).
std::optional<std::string> percent_decode(std::string_view in);

// The value of the first `name=value` pair in a query string such as
// "a=1&topic=news", percent-decoded, with '+' read as a space. nullopt when
// the name is absent or its value is malformed; "" for "name" or "name=".
std::optional<std::string> query_param(std::string_view query, std::string_view name);

}  // namespace sse
