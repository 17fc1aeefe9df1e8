// Reading a cookie; the contract is in cookie.h.
#include "http/cookie.h"

namespace sse {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::optional<std::string_view> find_in(std::string_view cookies, std::string_view name) {
    while (!cookies.empty()) {
        std::size_t semicolon = cookies.find(';');
        std::string_view pair = trim(cookies.substr(0, semicolon));
        cookies = semicolon == std::string_view::npos ? std::string_view{} : cookies.substr(semicolon + 1);
        std::size_t equals = pair.find('=');
        if (equals == std::string_view::npos || trim(pair.substr(0, equals)) != name) continue;
        std::string_view value = trim(pair.substr(equals + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        return value;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string_view> cookie_value(const Request& request, std::string_view name) {
    for (std::size_t i = 0; i < request.header_count; ++i) {
        if (!iequals(request.headers[i].name, "Cookie")) continue;
        if (std::optional<std::string_view> value = find_in(request.headers[i].value, name)) return value;
    }
    return std::nullopt;
}

}  // namespace sse
