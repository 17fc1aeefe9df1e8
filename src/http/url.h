// URI helpers for requests: percent-decoding, query-string parameters and
// the syntax of a Host field. Pure functions over string views.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sse {

// The value of one hexadecimal digit (0-9, a-f, A-F), or -1.
int hex_digit_value(char c);

// Decodes %XX escapes. Returns nullopt for a malformed escape ("%", "%4",
// "%zz") and for an escape that decodes to NUL. '+' is left as is (it only
// means space in form bodies and query strings, see query_param).
std::optional<std::string> percent_decode(std::string_view in);

// The value of the first `name=value` pair in a query string such as
// "a=1&topic=news", percent-decoded, with '+' read as a space. nullopt when
// the name is absent or its value is malformed; "" for "name" or "name=".
std::optional<std::string> query_param(std::string_view query, std::string_view name);

// Every value of `name` in the query, in order, decoded as query_param()
// does; nullopt when one of them is malformed.
std::optional<std::vector<std::string>> query_params(std::string_view query, std::string_view name);

// `target` for a log line: the value of every access_token query parameter
// replaced by "REDACTED", so that no credential reaches a log.
std::string redact_target(std::string_view target);

// Whether `value` is a valid Host field value (RFC 9112 section 3.2):
// uri-host [ ":" port ] from RFC 3986 section 3.2.2, where uri-host is an
// IP-literal ("[::1]", "[v1.x]"), an IPv4 address or a reg-name (letters,
// digits, "-._~", sub-delims and %XX escapes; possibly empty) and port is
// any run of digits, empty included ("host:"). Never allocates.
bool is_valid_host(std::string_view value);

}  // namespace sse
