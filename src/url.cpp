// Percent-decoding and query parameters; the contracts are in url.h.
#include "url.h"

namespace sse {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Whether `in` holds anything decode() would change: a '%' escape, or a
// '+' where it means a space. Most text holds neither.
bool has_escapes(std::string_view in, bool plus_is_space) {
    return in.find('%') != std::string_view::npos || (plus_is_space && in.find('+') != std::string_view::npos);
}

// Shared by both public functions: they differ only in what '+' means.
// A decoded NUL is refused because a C string API further on (a file name,
// a log line) would silently cut the text there.
std::optional<std::string> decode(std::string_view in, bool plus_is_space) {
    if (!has_escapes(in, plus_is_space)) return std::string(in);  // copied whole
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '+' && plus_is_space) {
            out += ' ';
        } else if (in[i] != '%') {
            out += in[i];
        } else {
            if (in.size() - i < 3) return std::nullopt;  // "%" or "%4" at the end
            int high = hex_digit(in[i + 1]);
            int low = hex_digit(in[i + 2]);
            if (high < 0 || low < 0 || (high == 0 && low == 0)) return std::nullopt;
            out += static_cast<char>(high * 16 + low);
            i += 2;
        }
    }
    return out;
}

// Whether a query key names `name` once decoded. Keys are compared as they
// are when they hold nothing to decode, which is nearly always.
bool key_matches(std::string_view raw_key, std::string_view name) {
    if (!has_escapes(raw_key, true)) return raw_key == name;
    std::optional<std::string> key = decode(raw_key, true);
    return key && *key == name;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view in) {
    return decode(in, false);
}

// Pairs are separated by '&'; a pair without '=' has the empty value. The
// name is decoded before comparing, so "top%69c" matches "topic"; a pair
// whose name does not decode is skipped rather than failing the lookup.
std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        std::size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);

        std::size_t equals = pair.find('=');
        std::string_view raw_key = pair.substr(0, equals);
        if (pair.empty() || !key_matches(raw_key, name)) continue;
        if (equals == std::string_view::npos) return std::string{};
        return decode(pair.substr(equals + 1), true);
    }
    return std::nullopt;
}

}  // namespace sse
