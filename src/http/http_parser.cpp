// HTTP/1.1 request head parsing (chunked bodies are in chunked_decoder.cpp);
// the contracts are in http_parser.h.
//
// parse_request() works line by line: find a complete line, judge it, go on.
// A line is only judged once its end has arrived, so a request cut short
// anywhere is always Incomplete, never a wrong Error. The size limits are
// the exception: they are checked while scanning, so a megabyte without a
// line end is refused after the first few kilobytes.
#include "http/http_parser.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "http/url.h"

namespace sse {
namespace {

// RFC 9112 section 2.2 says a server should ignore at least one empty line
// before the request line (some clients send a stray CRLF after a body).
// A few are skipped; beyond that the input is treated as garbage.
constexpr int kMaxLeadingEmptyLines = 4;

// The longest decimal Content-Length we read: 19 digits always fit in 64 bits.
constexpr std::size_t kMaxContentLengthDigits = 19;

// The path of an absolute-form target with no path ("http://host"). A view
// into static storage, since the input holds no '/' to point at.
constexpr std::string_view kRootPath = "/";

// A parsing step answers nullopt to go on, or the final result to return.
using Stop = std::optional<ParseResult>;

ParseResult error(int status, const char* reason) {
    return {ParseStatus::Error, 0, status, reason};
}

ParseResult incomplete() { return {ParseStatus::Incomplete, 0, 0, ""}; }

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_space_or_tab(char c) { return c == ' ' || c == '\t'; }

// A yes/no answer for each of the 256 byte values, computed at compile
// time: the parser asks such questions about every byte it reads.
template <typename Predicate>
constexpr std::array<bool, 256> byte_table(Predicate in_class) {
    std::array<bool, 256> table{};
    for (int b = 0; b < 256; ++b) table[static_cast<std::size_t>(b)] = in_class(static_cast<unsigned char>(b));
    return table;
}

// Control bytes other than HTAB: never allowed in a field line.
constexpr std::array<bool, 256> kControlBytes =
    byte_table([](unsigned char u) { return (u < 0x20 && u != '\t') || u == 0x7F; });

// tchar from RFC 9110 section 5.6.2: the bytes of a method or field name.
constexpr std::array<bool, 256> kTokenBytes = byte_table([](unsigned char u) {
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(u)) != std::string_view::npos;
});

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!is_tchar(c)) return false;
    }
    return true;
}

bool has_control_byte(std::string_view s) {
    for (char c : s) {
        if (is_control(c)) return true;
    }
    return false;
}

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space_or_tab(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space_or_tab(s.back())) s.remove_suffix(1);
    return s;
}

// Walks a comma-separated header list ("a, b,c"), yielding trimmed elements.
// Empty elements are yielded too ("5," gives "5" then ""), so the framing
// headers can refuse them instead of guessing.
struct ListReader {
    std::string_view rest;
    bool done = false;

    bool next(std::string_view& element) {
        if (done) return false;
        std::size_t comma = rest.find(',');
        element = trim(rest.substr(0, comma));
        if (comma == std::string_view::npos) {
            done = true;
        } else {
            rest.remove_prefix(comma + 1);
        }
        return true;
    }
};

enum class LineStatus { Found, Incomplete, BareCr, TooLong };

struct Line {
    LineStatus status = LineStatus::Incomplete;
    std::string_view content;  // without the line ending
    std::size_t next = 0;      // offset just past the line ending
};

// Finds the line that starts at `start`. More than `max_content` bytes
// before its end is TooLong, answered as soon as those bytes are here.
//
// Only the first `max_content` + 1 bytes can hold the line end, so that is
// all that is searched: first for LF, then for a CR before it (memchr scans
// many bytes per step; a byte-by-byte loop was most of the parser's time).
Line find_line(std::string_view in, std::size_t start, std::size_t max_content) {
    if (start >= in.size()) return {};  // nothing of this line yet
    const char* begin = in.data() + start;
    std::size_t window = std::min(in.size() - start, max_content + 1);
    const auto* lf = static_cast<const char*>(std::memchr(begin, '\n', window));
    std::size_t searched = lf ? static_cast<std::size_t>(lf - begin) : window;
    if (const auto* cr = static_cast<const char*>(std::memchr(begin, '\r', searched))) {
        std::size_t at = start + static_cast<std::size_t>(cr - begin);
        if (at + 1 == in.size()) return {};  // the LF may be on its way
        if (in[at + 1] != '\n') return {LineStatus::BareCr, {}, 0};
        return {LineStatus::Found, in.substr(start, at - start), at + 2};
    }
    if (lf) return {LineStatus::Found, in.substr(start, searched), start + searched + 1};
    if (window == max_content + 1) return {LineStatus::TooLong, {}, 0};
    return {};
}

// Moves `pos` past up to kMaxLeadingEmptyLines empty lines.
Stop skip_leading_empty_lines(std::string_view in, std::size_t& pos) {
    for (int skipped = 0; skipped < kMaxLeadingEmptyLines; ++skipped) {
        if (pos < in.size() && in[pos] == '\n') {
            pos += 1;
        } else if (pos < in.size() && in[pos] == '\r') {
            if (pos + 1 == in.size()) return incomplete();
            if (in[pos + 1] != '\n') return error(400, "bare CR");
            pos += 2;
        } else {
            break;
        }
    }
    return std::nullopt;
}

// "HTTP/1.0" and "HTTP/1.1" are served; other well-formed versions are 505.
Stop parse_version(std::string_view v, Request& out) {
    bool well_formed = v.size() == 8 && v.starts_with("HTTP/") && is_digit(v[5]) &&
                       v[6] == '.' && is_digit(v[7]);
    if (!well_formed) return error(400, "malformed HTTP version");
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) {
        return error(505, "HTTP version not supported");
    }
    out.version_minor = v[7] - '0';
    return std::nullopt;
}

// Splits "/path?query" (or "?query" after an absolute-form authority).
void split_path_query(std::string_view rest, Request& out) {
    std::size_t question = rest.find('?');
    out.path = rest.substr(0, question);
    if (out.path.empty()) out.path = kRootPath;
    if (question != std::string_view::npos) out.query = rest.substr(question + 1);
}

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Absolute-form ("http://host/path?q", RFC 9112 section 3.2.2): the path and
// query are read from after the authority; the authority itself is not used.
Stop parse_absolute_form(std::string_view target, Request& out) {
    std::string_view rest;
    if (istarts_with(target, "http://")) {
        rest = target.substr(7);
    } else if (istarts_with(target, "https://")) {
        rest = target.substr(8);
    } else {
        return error(400, "malformed request target");
    }
    std::size_t authority_end = std::min(rest.find_first_of("/?"), rest.size());
    if (authority_end == 0) return error(400, "missing host in request target");
    split_path_query(rest.substr(authority_end), out);
    return std::nullopt;
}

// Origin-form ("/path?q"), asterisk-form ("*", OPTIONS only) or absolute-form.
// Authority-form (CONNECT) is refused: this server is no proxy.
Stop parse_target(std::string_view target, Request& out) {
    auto visible = [](char c) { return c >= 0x21 && c <= 0x7E; };
    if (target.empty()) return error(400, "malformed request line");
    if (!std::all_of(target.begin(), target.end(), visible)) {
        return error(400, "invalid byte in request target");
    }
    out.target = target;
    if (target.front() == '/') {
        split_path_query(target, out);
        return std::nullopt;
    }
    if (target == "*") {
        if (out.method != "OPTIONS") return error(400, "'*' target is only for OPTIONS");
        out.path = target;
        return std::nullopt;
    }
    return parse_absolute_form(target, out);
}

// request-line = method SP request-target SP HTTP-version, single spaces.
Stop parse_request_line(std::string_view line, Request& out) {
    std::size_t first_space = line.find(' ');
    if (first_space == std::string_view::npos) return error(400, "malformed request line");
    std::size_t second_space = line.find(' ', first_space + 1);
    if (second_space == std::string_view::npos) return error(400, "malformed request line");

    out.method = line.substr(0, first_space);
    if (!is_token(out.method)) return error(400, "invalid method");
    if (Stop stop = parse_version(line.substr(second_space + 1), out)) return stop;
    return parse_target(line.substr(first_space + 1, second_space - first_space - 1), out);
}

// field-line = field-name ":" OWS field-value OWS (RFC 9112 section 5).
Stop parse_field_line(std::string_view line, Header& header) {
    if (is_space_or_tab(line.front())) return error(400, "obsolete line folding");
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return error(400, "header line without colon");
    std::string_view name = line.substr(0, colon);
    if (name.empty()) return error(400, "empty header name");
    // RFC 9112 section 5.1: whitespace here must be refused, since proxies
    // that strip it and proxies that keep it would see different headers.
    if (is_space_or_tab(name.back())) return error(400, "whitespace before colon");
    if (!is_token(name)) return error(400, "invalid header name");
    std::string_view value = line.substr(colon + 1);
    if (has_control_byte(value)) {
        return error(400, "control byte in header value");
    }
    header = {name, trim(value)};
    return std::nullopt;
}

// Reads field lines up to and including the empty line; `pos` ends past it.
Stop parse_field_lines(std::string_view in, std::size_t& pos, Request& out) {
    const std::size_t section_start = pos;
    for (;;) {
        std::size_t used = pos - section_start;
        // Even the shortest line still to come (a bare LF) would not fit.
        if (used >= kMaxHeaderBytes) return error(431, "header too large");
        Line line = find_line(in, pos, kMaxHeaderBytes - used - 1);
        if (line.status == LineStatus::Incomplete) return incomplete();
        if (line.status == LineStatus::BareCr) return error(400, "bare CR");
        if (line.status == LineStatus::TooLong) return error(431, "header too large");
        pos = line.next;
        if (pos - section_start > kMaxHeaderBytes) return error(431, "header too large");
        if (line.content.empty()) return std::nullopt;
        if (out.header_count == kMaxHeaderCount) return error(400, "too many headers");
        if (Stop stop = parse_field_line(line.content, out.headers[out.header_count])) {
            return stop;
        }
        ++out.header_count;
    }
}

// What the headers say about framing and the connection, gathered in one pass.
struct Framing {
    int host_count = 0;
    bool host_invalid = false;
    bool has_length = false;
    std::uint64_t length = 0;
    bool has_transfer_encoding = false;
    int chunked_count = 0;
    bool chunked_last = false;
    bool unknown_coding = false;
    bool close = false;
    bool keep_alive = false;
    Expectation expectation = Expectation::None;
};

// 1 to 19 ASCII digits; no sign, no spaces, no hex.
std::optional<std::uint64_t> parse_decimal(std::string_view s) {
    if (s.empty() || s.size() > kMaxContentLengthDigits) return std::nullopt;
    std::uint64_t value = 0;
    for (char c : s) {
        if (!is_digit(c)) return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
}

// Several Content-Length values are accepted only when all are the same
// (RFC 9112 section 6.3, rule 5); any disagreement could smuggle a request.
Stop read_content_length(std::string_view value, Framing& f) {
    ListReader list{value};
    std::string_view element;
    while (list.next(element)) {
        std::optional<std::uint64_t> length = parse_decimal(element);
        if (!length) return error(400, "invalid Content-Length");
        if (f.has_length && *length != f.length) return error(400, "conflicting Content-Length");
        f.has_length = true;
        f.length = *length;
    }
    return std::nullopt;
}

// Records each transfer coding in order; the verdict is in check_framing().
Stop read_transfer_encoding(std::string_view value, Framing& f) {
    f.has_transfer_encoding = true;
    ListReader list{value};
    std::string_view element;
    while (list.next(element)) {
        std::size_t semicolon = element.find(';');
        std::string_view coding = trim(element.substr(0, semicolon));
        if (!is_token(coding)) return error(400, "malformed Transfer-Encoding");
        f.chunked_last = iequals(coding, "chunked");
        if (!f.chunked_last) {
            f.unknown_coding = true;
        } else if (semicolon != std::string_view::npos) {
            return error(400, "chunked takes no parameters");
        } else {
            ++f.chunked_count;
        }
    }
    return std::nullopt;
}

void read_connection(std::string_view value, Framing& f) {
    ListReader list{value};
    std::string_view option;
    while (list.next(option)) {
        if (iequals(option, "close")) f.close = true;
        if (iequals(option, "keep-alive")) f.keep_alive = true;
    }
}

// Empty list elements are ignored (RFC 9110 section 5.6.1); one element
// other than "100-continue", in any Expect field, makes it Unsupported.
void read_expect(std::string_view value, Framing& f) {
    ListReader list{value};
    std::string_view expectation;
    while (list.next(expectation)) {
        if (expectation.empty()) continue;
        if (!iequals(expectation, "100-continue")) {
            f.expectation = Expectation::Unsupported;
        } else if (f.expectation == Expectation::None) {
            f.expectation = Expectation::Continue;
        }
    }
}

Stop gather_framing(const Request& req, Framing& f) {
    for (std::size_t i = 0; i < req.header_count; ++i) {
        const Header& h = req.headers[i];
        Stop stop;
        if (iequals(h.name, "host")) {
            ++f.host_count;
            if (!is_valid_host(h.value)) f.host_invalid = true;
        } else if (iequals(h.name, "content-length")) {
            stop = read_content_length(h.value, f);
        } else if (iequals(h.name, "transfer-encoding")) {
            stop = read_transfer_encoding(h.value, f);
        } else if (iequals(h.name, "connection")) {
            read_connection(h.value, f);
        } else if (iequals(h.name, "expect")) {
            read_expect(h.value, f);
        }
        if (stop) return stop;
    }
    return std::nullopt;
}

// Transfer-Encoding is refused where the peer and we could disagree on where
// the body ends (RFC 9112 section 6.1): in HTTP/1.0, next to Content-Length,
// or when chunked is not the single, final coding.
Stop check_transfer_encoding(const Framing& f, int version_minor) {
    if (version_minor == 0) return error(400, "Transfer-Encoding in HTTP/1.0");
    if (f.has_length) return error(400, "both Transfer-Encoding and Content-Length");
    if (f.unknown_coding) return error(501, "unsupported transfer coding");
    if (f.chunked_count != 1 || !f.chunked_last) {
        return error(400, "chunked must be the last coding");
    }
    return std::nullopt;
}

// RFC 9112 section 3.2: HTTP/1.1 needs exactly one Host, HTTP/1.0 at most
// one, and a server must answer 400 to an invalid Host value in either.
Stop apply_framing(Request& out) {
    Framing f;
    if (Stop stop = gather_framing(out, f)) return stop;
    if (f.host_count > 1) return error(400, "duplicate Host header");
    if (f.host_count == 0 && out.version_minor == 1) return error(400, "missing Host header");
    if (f.host_invalid) return error(400, "invalid Host header");
    if (f.has_transfer_encoding) {
        if (Stop stop = check_transfer_encoding(f, out.version_minor)) return stop;
        out.body_kind = BodyKind::Chunked;
    } else if (f.has_length) {
        out.body_kind = BodyKind::Length;
        out.content_length = f.length;
    }
    out.keep_alive = out.version_minor == 1 ? !f.close : (f.keep_alive && !f.close);
    out.expectation = out.version_minor == 1 ? f.expectation : Expectation::None;
    return std::nullopt;
}

// Clears what an earlier call may have left; the header array is not
// wiped, since header_count says which entries are meaningful.
void reset(Request& out) {
    out.method = out.target = out.path = out.query = {};
    out.version_minor = 1;
    out.header_count = 0;
    out.body_kind = BodyKind::None;
    out.content_length = 0;
    out.keep_alive = true;
    out.expectation = Expectation::None;
}

}  // namespace

ParseResult parse_request(std::string_view in, Request& out) {
    reset(out);
    std::size_t pos = 0;
    if (Stop stop = skip_leading_empty_lines(in, pos)) return *stop;

    Line line = find_line(in, pos, kMaxRequestLineBytes);
    if (line.status == LineStatus::Incomplete) {
        // Judge the method as soon as its bytes arrive: binary junk (a TLS
        // handshake on the plain port) is refused at once instead of
        // waiting out the header timeout for a line end that never comes.
        for (std::size_t i = pos; i < in.size() && in[i] != ' '; ++i) {
            if (!is_tchar(in[i])) return error(400, "malformed request line");
        }
        return incomplete();
    }
    if (line.status == LineStatus::BareCr) return error(400, "bare CR");
    if (line.status == LineStatus::TooLong) return error(414, "request line too long");
    if (Stop stop = parse_request_line(line.content, out)) return *stop;
    pos = line.next;

    if (Stop stop = parse_field_lines(in, pos, out)) return *stop;
    if (Stop stop = apply_framing(out)) return *stop;
    return {ParseStatus::Complete, pos, 0, ""};
}

bool is_control(char c) { return kControlBytes[static_cast<unsigned char>(c)]; }

bool is_tchar(char c) { return kTokenBytes[static_cast<unsigned char>(c)]; }

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_lower(a[i]) != to_lower(b[i])) return false;
    }
    return true;
}

const Header* Request::find(std::string_view name) const {
    for (std::size_t i = 0; i < header_count; ++i) {
        if (iequals(headers[i].name, name)) return &headers[i];
    }
    return nullptr;
}

}  // namespace sse
