// Reading a cookie from a request's Cookie fields (RFC 6265 section 5.4):
// "name=value; name2=value2", possibly split over several Cookie fields
// (HTTP/2 proxies split them). Pure.
#pragma once

#include <optional>
#include <string_view>

#include "http/http_parser.h"

namespace sse {

// The value of the first cookie called `name` (case-sensitive, as cookie
// names are), without surrounding double quotes; nullopt when absent.
std::optional<std::string_view> cookie_value(const Request& request, std::string_view name);

}  // namespace sse
