// HTTP/1.1 request parsing (RFC 9112), as a pure function over bytes.
//
// parse_request() never reads a socket and never allocates: it looks at the
// bytes received so far and answers Complete (with views into those bytes),
// Incomplete (call again when more bytes arrive) or Error (with the status
// code to answer). The caller keeps the input alive while it uses the views.
//
// Line endings: CRLF, and also a bare LF (RFC 9112 section 2.2 allows a
// recipient to accept it; people type requests by hand with netcat). A bare
// CR anywhere is an error, because peers disagree on what it means.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sse {

// The request line may not exceed this; a longer one is answered 414.
inline constexpr std::size_t kMaxRequestLineBytes = 8 * 1024;
// The header fields (everything after the request line) may not exceed this;
// more is answered 431.
inline constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
// More header lines than this is answered 400.
inline constexpr std::size_t kMaxHeaderCount = 100;

struct Header {
    std::string_view name;   // as sent; compare case-insensitively
    std::string_view value;  // leading and trailing spaces/tabs removed
};

// How the request's body is delimited (RFC 9112 section 6.3).
enum class BodyKind { None, Length, Chunked };

// What the Expect fields ask for (RFC 9110 section 10.1.1): nothing,
// "100-continue" only, or anything else. HTTP/1.0 requests always get None,
// since a server must ignore Expect in them.
enum class Expectation { None, Continue, Unsupported };

struct Request {
    std::string_view method;  // e.g. "GET"; case-sensitive token
    std::string_view target;  // request-target as sent, e.g. "/a%20b?x=1"
    std::string_view path;    // target up to '?', still percent-encoded
    std::string_view query;   // after '?', empty when absent
    int version_minor = 1;    // HTTP/1.<version_minor>: 0 or 1
    std::array<Header, kMaxHeaderCount> headers{};
    std::size_t header_count = 0;

    BodyKind body_kind = BodyKind::None;
    std::uint64_t content_length = 0;  // meaningful when body_kind == Length
    bool keep_alive = true;            // from version and Connection header
    Expectation expectation = Expectation::None;  // from the Expect fields

    // First header with this name (case-insensitive), or nullptr.
    const Header* find(std::string_view name) const;
};

enum class ParseStatus { Complete, Incomplete, Error };

struct ParseResult {
    ParseStatus status = ParseStatus::Incomplete;
    std::size_t consumed = 0;   // bytes of the request head (Complete only)
    int error_status = 0;       // 400, 414, 431, 501, 505 (Error only)
    const char* error_reason = "";  // short text for the error body
};

// Parses the request head (request line and header fields, up to and
// including the empty line) at the start of `input`. The body is not part
// of it: the caller reads body bytes according to body_kind.
ParseResult parse_request(std::string_view input, Request& out);

// True when `a` and `b` are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b);

// True for a control byte other than HTAB (CTL less HTAB, RFC 5234): never
// allowed in a field line or a chunk extension.
bool is_control(char c);

// True for a tchar (RFC 9110 section 5.6.2): a byte of a method, a field
// name or any other token.
bool is_tchar(char c);

}  // namespace sse
