// Percent-decoding, query parameters and Host syntax; the contracts are in
// url.h.
#include "http/url.h"

#include <algorithm>

namespace sse {
namespace {

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
            int high = hex_digit_value(in[i + 1]);
            int low = hex_digit_value(in[i + 2]);
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

// --- Host syntax: RFC 3986 sections 3.2.2 and 3.2.3 -----------------------

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_hex_digit(char c) { return hex_digit_value(c) >= 0; }

// unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
bool is_unreserved(char c) {
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return alpha || is_digit(c) || std::string_view("-._~").find(c) != std::string_view::npos;
}

// sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
bool is_sub_delim(char c) { return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos; }

// h16 = 1*4HEXDIG: one 16-bit group of an IPv6 address.
bool is_h16(std::string_view s) {
    return !s.empty() && s.size() <= 4 && std::all_of(s.begin(), s.end(), is_hex_digit);
}

// dec-octet: 0 to 255, without leading zeros ("01" is not one).
bool is_dec_octet(std::string_view s) {
    if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return false;
    if (!std::all_of(s.begin(), s.end(), is_digit)) return false;
    int value = 0;
    for (char c : s) value = value * 10 + (c - '0');
    return value <= 255;
}

// IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet
bool is_ipv4(std::string_view s) {
    for (int dots = 0; dots < 3; ++dots) {
        std::size_t dot = s.find('.');
        if (dot == std::string_view::npos || !is_dec_octet(s.substr(0, dot))) return false;
        s.remove_prefix(dot + 1);
    }
    return is_dec_octet(s);
}

// IPv6address: eight h16 groups separated by ':', the last two of which may
// be written as an IPv4 address; one "::" stands for one or more groups of
// zeros, so with it at most seven are written.
bool is_ipv6(std::string_view s) {
    bool compressed = s.starts_with("::");
    if (compressed) s.remove_prefix(2);
    int groups = 0;
    while (!s.empty()) {
        std::size_t colon = s.find(':');
        std::string_view group = s.substr(0, colon);
        if (colon == std::string_view::npos) {  // the last group
            if (is_ipv4(group)) groups += 2;
            else if (is_h16(group)) groups += 1;
            else return false;
            break;
        }
        if (!is_h16(group)) return false;
        ++groups;
        s.remove_prefix(colon + 1);
        if (s.starts_with(':')) {
            if (compressed) return false;  // a second "::"
            compressed = true;
            s.remove_prefix(1);
        } else if (s.empty()) {
            return false;  // ends in a single ':'
        }
    }
    return compressed ? groups <= 7 : groups == 8;
}

// IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
bool is_ipv_future(std::string_view s) {
    if (s.empty() || (s[0] != 'v' && s[0] != 'V')) return false;
    std::size_t dot = s.find('.');
    if (dot == std::string_view::npos || dot == 1 || dot + 1 == s.size()) return false;
    std::string_view version = s.substr(1, dot - 1);
    std::string_view address = s.substr(dot + 1);
    auto address_char = [](char c) { return is_unreserved(c) || is_sub_delim(c) || c == ':'; };
    return std::all_of(version.begin(), version.end(), is_hex_digit) &&
           std::all_of(address.begin(), address.end(), address_char);
}

// reg-name = *( unreserved / pct-encoded / sub-delims ), possibly empty.
bool is_reg_name(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (s.size() - i < 3 || !is_hex_digit(s[i + 1]) || !is_hex_digit(s[i + 2])) return false;
            i += 2;
        } else if (!is_unreserved(s[i]) && !is_sub_delim(s[i])) {
            return false;
        }
    }
    return true;
}

// What follows the host: nothing, or ":" port where port = *DIGIT.
bool is_port_suffix(std::string_view rest) {
    if (rest.empty()) return true;
    return rest.front() == ':' && std::all_of(rest.begin() + 1, rest.end(), is_digit);
}

}  // namespace

int hex_digit_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// host = IP-literal / IPv4address / reg-name. Every IPv4 address is also a
// reg-name by its characters, so only the bracketed IP-literal needs its own
// grammar; a reg-name holds no ':' or '[', so the first of them ends it.
bool is_valid_host(std::string_view value) {
    if (value.starts_with('[')) {
        std::size_t close = value.find(']');
        if (close == std::string_view::npos) return false;
        std::string_view literal = value.substr(1, close - 1);
        if (!is_ipv6(literal) && !is_ipv_future(literal)) return false;
        return is_port_suffix(value.substr(close + 1));
    }
    std::size_t colon = value.find(':');
    if (!is_reg_name(value.substr(0, colon))) return false;
    return colon == std::string_view::npos || is_port_suffix(value.substr(colon));
}

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

std::optional<std::vector<std::string>> query_params(std::string_view query, std::string_view name) {
    std::vector<std::string> values;
    while (!query.empty()) {
        std::size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        std::size_t equals = pair.find('=');
        if (pair.empty() || !key_matches(pair.substr(0, equals), name)) continue;
        std::optional<std::string> value =
            equals == std::string_view::npos ? std::string{} : decode(pair.substr(equals + 1), true);
        if (!value) return std::nullopt;
        values.push_back(std::move(*value));
    }
    return values;
}

std::string redact_target(std::string_view target) {
    std::size_t question = target.find('?');
    if (question == std::string_view::npos) return std::string(target);
    std::string out(target.substr(0, question + 1));
    std::string_view query = target.substr(question + 1);
    while (true) {
        std::size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        std::size_t equals = pair.find('=');
        if (equals != std::string_view::npos && key_matches(pair.substr(0, equals), "access_token")) {
            out.append(pair.substr(0, equals + 1)).append("REDACTED");
        } else {
            out.append(pair);
        }
        if (amp == std::string_view::npos) return out;
        out += '&';
        query.remove_prefix(amp + 1);
    }
}

}  // namespace sse
