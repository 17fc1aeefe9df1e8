// Tests for src/http_parser: tables of one-line named cases. Every input is
// parsed from memory that ends right before an unreadable page, so reading
// one byte too far crashes the test, and every proper prefix of a valid
// request must answer Incomplete.
#include "http/http_parser.h"
#include "guarded_bytes.h"

#include <doctest/doctest.h>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace {

using namespace std::string_literals;
using sse::BodyKind;
using sse::ParseStatus;
using sse::test::GuardedBytes;

constexpr auto kComplete = ParseStatus::Complete;
constexpr auto kIncomplete = ParseStatus::Incomplete;
constexpr auto kError = ParseStatus::Error;

const std::string kHost = "Host: a\r\n";

// A request line of exactly `length` bytes (without its CRLF).
std::string request_line_of(std::size_t length) {
    return "GET /" + std::string(length - 14, 'a') + " HTTP/1.1\r\n";
}

// A request whose header section (after the request line, blank line
// included) is exactly `length` bytes.
std::string header_section_of(std::size_t length) {
    return "GET / HTTP/1.1\r\n" + kHost + "X: " + std::string(length - 16, 'v') + "\r\n\r\n";
}

std::string with_headers(std::size_t count) {
    std::string request = "GET / HTTP/1.1\r\n" + kHost;
    for (std::size_t i = 1; i < count; ++i) request += "X-" + std::to_string(i) + ": v\r\n";
    return request + "\r\n";
}

// A request head cut after `count` header lines of `length` bytes each.
std::string many_lines(std::size_t count, std::size_t length) {
    std::string request = "GET / HTTP/1.1\r\n";
    for (std::size_t i = 0; i < count; ++i) request += "X: " + std::string(length - 5, 'v') + "\r\n";
    return request;
}

struct Case {
    const char* name;
    std::string input;
    ParseStatus status;
    int error;  // expected error_status when status is kError
};

const std::vector<Case>& cases() {
    static const std::vector<Case> table = {
        {"simple GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", kComplete, 0},
        {"bare LF endings", "GET / HTTP/1.1\nHost: a\n\n", kComplete, 0},
        {"mixed endings", "GET / HTTP/1.1\r\nHost: a\n\r\n", kComplete, 0},
        {"HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n", kComplete, 0},
        {"query", "GET /events?topic=news&x=1 HTTP/1.1\r\nHost: a\r\n\r\n", kComplete, 0},
        {"empty query", "GET /p? HTTP/1.1\r\nHost: a\r\n\r\n", kComplete, 0},
        {"four leading empty lines", "\r\n\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", kComplete, 0},
        {"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", kComplete, 0},
        {"absolute-form", "GET http://a.example/x/y?z=1 HTTP/1.1\r\nHost: a\r\n\r\n", kComplete, 0},
        {"absolute-form no path", "GET HTTP://a.example HTTP/1.1\r\nHost: a\r\n\r\n", kComplete, 0},
        {"absolute-form https query", "GET https://a?q HTTP/1.1\r\nHost: a\r\n\r\n", kComplete, 0},
        {"extension method", "M-SEARCH /x HTTP/1.1\r\nHost: a\r\n\r\n", kComplete, 0},
        {"value trimmed", "GET / HTTP/1.1\r\nHost: \t a \t\r\nX: \t a b \t\r\n\r\n", kComplete, 0},
        {"empty value", "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n", kComplete, 0},
        {"tab and obs-text in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\tcaf\xc3\xa9\r\n\r\n", kComplete, 0},
        {"Content-Length", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", kComplete, 0},
        {"CL zero", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", kComplete, 0},
        {"CL duplicates agree", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", kComplete, 0},
        {"CL list agrees", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", kComplete, 0},
        {"CL 19 digits", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999999999999999\r\n\r\n", kComplete, 0},
        {"chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", kComplete, 0},
        {"chunked any case", "POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: ChUnKeD\r\n\r\n", kComplete, 0},
        {"Connection close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", kComplete, 0},
        {"Connection list", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n", kComplete, 0},
        {"1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", kComplete, 0},
        {"Host name:port", "GET / HTTP/1.1\r\nHost: example.com:8000\r\n\r\n", kComplete, 0},
        {"Host IPv4", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", kComplete, 0},
        {"Host not IPv4 is a reg-name", "GET / HTTP/1.1\r\nHost: 1.2.3.999\r\n\r\n", kComplete, 0},
        {"Host IPv6 and port", "GET / HTTP/1.1\r\nHost: [::1]:8000\r\n\r\n", kComplete, 0},
        {"Host IPv6 eight groups", "GET / HTTP/1.1\r\nHost: [2001:DB8:0:0:8:800:200C:417A]\r\n\r\n", kComplete, 0},
        {"Host IPv6 ::", "GET / HTTP/1.1\r\nHost: [::]\r\n\r\n", kComplete, 0},
        {"Host IPv6 ending ::", "GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7::]\r\n\r\n", kComplete, 0},
        {"Host IPv6 IPv4 tail", "GET / HTTP/1.1\r\nHost: [::ffff:192.0.2.1]:80\r\n\r\n", kComplete, 0},
        {"Host IPv6 full IPv4 tail", "GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:1.2.3.4]\r\n\r\n", kComplete, 0},
        {"Host IPvFuture", "GET / HTTP/1.1\r\nHost: [v1.fe80::a+en1]\r\n\r\n", kComplete, 0},
        {"Host empty port", "GET / HTTP/1.1\r\nHost: host:\r\n\r\n", kComplete, 0},
        {"Host IPv6 empty port", "GET / HTTP/1.1\r\nHost: [::1]:\r\n\r\n", kComplete, 0},
        {"Host pct-encoded", "GET / HTTP/1.1\r\nHost: ex%41mple%2d1\r\n\r\n", kComplete, 0},
        {"Host sub-delims", "GET / HTTP/1.1\r\nHost: a!$&'()*+,;=~_-.b\r\n\r\n", kComplete, 0},
        {"Host empty", "GET / HTTP/1.1\r\nHost:\r\n\r\n", kComplete, 0},
        {"Host port only", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", kComplete, 0},
        {"100 headers", with_headers(100), kComplete, 0},
        {"request line at limit", request_line_of(sse::kMaxRequestLineBytes) + kHost + "\r\n", kComplete, 0},
        {"header section at limit", header_section_of(sse::kMaxHeaderBytes), kComplete, 0},

        {"empty input", "", kIncomplete, 0},
        {"lone CR", "\r", kIncomplete, 0},
        {"method only", "GET", kIncomplete, 0},
        {"partial version", "GET / HTTP/1.", kIncomplete, 0},
        {"CR before LF", "GET / HTTP/1.1\r", kIncomplete, 0},
        {"no blank line", "GET / HTTP/1.1\r\nHost: a\r\n", kIncomplete, 0},
        {"CR of blank line", "GET / HTTP/1.1\r\nHost: a\r\n\r", kIncomplete, 0},

        {"five leading empty lines", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", kError, 400},
        {"bad method byte", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", kError, 400},
        {"empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", kError, 400},
        {"double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", kError, 400},
        {"trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", kError, 400},
        {"tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", kError, 400},
        {"missing version", "GET /\r\n\r\n", kError, 400},
        {"target without slash", "GET index.html HTTP/1.1\r\nHost: a\r\n\r\n", kError, 400},
        {"* for GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", kError, 400},
        {"authority-form", "CONNECT a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n", kError, 400},
        {"absolute-form no host", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", kError, 400},
        {"control byte in target", "GET /a\x01z HTTP/1.1\r\nHost: a\r\n\r\n", kError, 400},
        {"DEL in target", "GET /a\x7fz HTTP/1.1\r\nHost: a\r\n\r\n", kError, 400},
        {"non-ASCII in target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", kError, 400},
        {"lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", kError, 400},
        {"version two digits", "GET / HTTP/11\r\nHost: a\r\n\r\n", kError, 400},
        {"version trailing junk", "GET / HTTP/1.1x\r\nHost: a\r\n\r\n", kError, 400},
        {"version without dot", "GET / HTTP/1x1\r\nHost: a\r\n\r\n", kError, 400},
        {"version cut short", "GET / HTTP/1.\r\nHost: a\r\n\r\n", kError, 400},
        {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", kError, 505},
        {"HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", kError, 505},
        {"HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", kError, 505},
        {"bare CR in request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", kError, 400},
        {"bare CR in header", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", kError, 400},
        {"bare CR before request", "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", kError, 400},
        {"NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"s, kError, 400},
        {"NUL in name", "GET / HTTP/1.1\r\nHost: a\r\nX\0Y: a\r\n\r\n"s, kError, 400},
        {"ESC in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x1b\r\n\r\n", kError, 400},
        {"DEL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", kError, 400},
        {"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", kError, 400},
        {"first line folded", "GET / HTTP/1.1\r\n\tHost: a\r\n\r\n", kError, 400},
        {"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", kError, 400},
        {"tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", kError, 400},
        {"empty name", "GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", kError, 400},
        {"no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", kError, 400},
        {"bad name byte", "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", kError, 400},
        {"101 headers", with_headers(101), kError, 400},
        {"missing Host", "GET / HTTP/1.1\r\n\r\n", kError, 400},
        {"duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", kError, 400},
        {"duplicate Host 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", kError, 400},
        {"Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", kError, 400},
        {"Host with tab", "GET / HTTP/1.1\r\nHost: a\tb\r\n\r\n", kError, 400},
        {"Host invalid in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a b\r\n\r\n", kError, 400},
        {"Host with userinfo", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", kError, 400},
        {"Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", kError, 400},
        {"Host with ?", "GET / HTTP/1.1\r\nHost: a?b\r\n\r\n", kError, 400},
        {"Host non-ASCII", "GET / HTTP/1.1\r\nHost: caf\xc3\xa9\r\n\r\n", kError, 400},
        {"Host bad escape", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", kError, 400},
        {"Host short escape", "GET / HTTP/1.1\r\nHost: a%4\r\n\r\n", kError, 400},
        {"Host port not digits", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", kError, 400},
        {"Host two ports", "GET / HTTP/1.1\r\nHost: a:80:90\r\n\r\n", kError, 400},
        {"Host IPv6 unbracketed", "GET / HTTP/1.1\r\nHost: ::1\r\n\r\n", kError, 400},
        {"Host [ unbalanced", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", kError, 400},
        {"Host ] unbalanced", "GET / HTTP/1.1\r\nHost: a]\r\n\r\n", kError, 400},
        {"Host junk after ]", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", kError, 400},
        {"Host empty brackets", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", kError, 400},
        {"Host IPv4 in brackets", "GET / HTTP/1.1\r\nHost: [127.0.0.1]\r\n\r\n", kError, 400},
        {"Host IPv6 two ::", "GET / HTTP/1.1\r\nHost: [1::2::3]\r\n\r\n", kError, 400},
        {"Host IPv6 nine groups", "GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7:8:9]\r\n\r\n", kError, 400},
        {"Host IPv6 seven groups", "GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7]\r\n\r\n", kError, 400},
        {"Host IPv6 eight groups and ::", "GET / HTTP/1.1\r\nHost: [1:2:3:4:5:6:7::8]\r\n\r\n", kError, 400},
        {"Host IPv6 five hex digits", "GET / HTTP/1.1\r\nHost: [12345::]\r\n\r\n", kError, 400},
        {"Host IPv6 lone colon", "GET / HTTP/1.1\r\nHost: [:1:2:3:4:5:6:7]\r\n\r\n", kError, 400},
        {"Host IPv6 zone", "GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n", kError, 400},
        {"Host IPv6 bad IPv4 tail", "GET / HTTP/1.1\r\nHost: [::1.2.3.256]\r\n\r\n", kError, 400},
        {"Host IPv6 IPv4 leading zero", "GET / HTTP/1.1\r\nHost: [::1.2.3.04]\r\n\r\n", kError, 400},
        {"Host IPv6 IPv4 not last", "GET / HTTP/1.1\r\nHost: [1.2.3.4::]\r\n\r\n", kError, 400},
        {"Host IPvFuture no address", "GET / HTTP/1.1\r\nHost: [v1.]\r\n\r\n", kError, 400},
        {"Host IPvFuture no version", "GET / HTTP/1.1\r\nHost: [v.a]\r\n\r\n", kError, 400},
        {"Host IPvFuture bad version", "GET / HTTP/1.1\r\nHost: [vz.a]\r\n\r\n", kError, 400},
        {"CL plus sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", kError, 400},
        {"CL hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", kError, 400},
        {"CL negative", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", kError, 400},
        {"CL empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", kError, 400},
        {"CL inner space", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", kError, 400},
        {"CL 20 digits", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10000000000000000000\r\n\r\n", kError, 400},
        {"CL list differs", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", kError, 400},
        {"CL list empty element", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n", kError, 400},
        {"CL headers differ", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", kError, 400},
        {"TE in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", kError, 400},
        {"TE and CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", kError, 400},
        {"TE gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", kError, 501},
        {"TE gzip, chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", kError, 501},
        {"TE across headers", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", kError, 501},
        {"TE identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", kError, 501},
        {"TE chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", kError, 400},
        {"TE chunked in two headers", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", kError, 400},
        {"TE empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", kError, 400},
        {"TE chunked with parameter", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", kError, 400},
        {"request line over limit", request_line_of(sse::kMaxRequestLineBytes + 1) + kHost + "\r\n", kError, 414},
        {"request line never ends", std::string(sse::kMaxRequestLineBytes + 1, 'A'), kError, 414},
        {"header section over limit", header_section_of(sse::kMaxHeaderBytes + 1), kError, 431},
        {"header never ends", "GET / HTTP/1.1\r\nX: " + std::string(sse::kMaxHeaderBytes, 'v'), kError, 431},
        {"limit reached, no blank line", many_lines(1, sse::kMaxHeaderBytes), kError, 431},
        {"many lines never end", many_lines(90, 100), kError, 431},
    };
    return table;
}

TEST_CASE("parse_request: table, each input ending at an unreadable page") {
    for (const Case& c : cases()) {
        INFO(c.name);
        GuardedBytes memory(c.input.size());
        sse::Request request;
        sse::ParseResult result = sse::parse_request(memory.place(c.input), request);
        CHECK(result.status == c.status);
        if (c.status == kComplete) CHECK(result.consumed == c.input.size());
        if (c.status == kError) {
            CHECK(result.error_status == c.error);
            CHECK(std::strlen(result.error_reason) > 0);
        }
    }
}

TEST_CASE("parse_request: every proper prefix of a valid request is Incomplete") {
    for (const Case& c : cases()) {
        if (c.status != kComplete) continue;
        INFO(c.name);
        GuardedBytes memory(c.input.size());
        sse::Request request;
        std::size_t incomplete = 0;
        for (std::size_t length = 0; length < c.input.size(); ++length) {
            std::string_view prefix = memory.place(std::string_view(c.input).substr(0, length));
            if (sse::parse_request(prefix, request).status == kIncomplete) {
                ++incomplete;
            } else {
                FAIL_CHECK("prefix of length " << length << " is not Incomplete");
            }
        }
        CHECK(incomplete == c.input.size());
    }
}

struct Fields {
    const char* name;
    const char* input;
    const char* method;
    const char* target;
    const char* path;
    const char* query;
    int minor;
    BodyKind body;
    std::uint64_t length;
    bool keep_alive;
    std::size_t header_count;
};

const Fields kFields[] = {
    {"simple", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/", "/", "", 1, BodyKind::None, 0, true, 1},
    {"query", "GET /e?topic=a%20b HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/e?topic=a%20b", "/e", "topic=a%20b", 1, BodyKind::None, 0, true, 1},
    {"1.0", "HEAD /x HTTP/1.0\r\n\r\n", "HEAD", "/x", "/x", "", 0, BodyKind::None, 0, false, 0},
    {"1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "GET", "/", "/", "", 0, BodyKind::None, 0, true, 1},
    {"1.0 close wins", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", "GET", "/", "/", "", 0, BodyKind::None, 0, false, 1},
    {"1.1 close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: x, Close\r\n\r\n", "GET", "/", "/", "", 1, BodyKind::None, 0, false, 2},
    {"length", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n", "POST", "/p", "/p", "", 1, BodyKind::Length, 42, true, 2},
    {"max length", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999999999999999\r\n\r\n", "POST", "/p", "/p", "", 1, BodyKind::Length, 9999999999999999999ull, true, 2},
    {"chunked", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", "POST", "/p", "/p", "", 1, BodyKind::Chunked, 0, true, 2},
    {"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "OPTIONS", "*", "*", "", 1, BodyKind::None, 0, true, 1},
    {"absolute-form", "GET http://h:8/a/b?c HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "http://h:8/a/b?c", "/a/b", "c", 1, BodyKind::None, 0, true, 1},
    {"absolute no path", "GET http://h?c HTTP/1.1\r\nHost: h\r\n\r\n", "GET", "http://h?c", "/", "c", 1, BodyKind::None, 0, true, 1},
};

TEST_CASE("parse_request: fields of valid requests") {
    for (const Fields& f : kFields) {
        INFO(f.name);
        GuardedBytes memory(std::strlen(f.input));
        sse::Request r;
        REQUIRE(sse::parse_request(memory.place(f.input), r).status == kComplete);
        CHECK(r.method == f.method);
        CHECK(r.target == f.target);
        CHECK(r.path == f.path);
        CHECK(r.query == f.query);
        CHECK(r.version_minor == f.minor);
        CHECK(r.body_kind == f.body);
        CHECK(r.content_length == f.length);
        CHECK(r.keep_alive == f.keep_alive);
        CHECK(r.header_count == f.header_count);
    }
}

TEST_CASE("parse_request: Expect is read as none, 100-continue or unsupported") {
    using sse::Expectation;
    struct ExpectCase {
        const char* name;
        const char* input;
        Expectation expectation;
    };
    const ExpectCase cases[] = {
        {"absent", "POST / HTTP/1.1\r\nHost: a\r\n\r\n", Expectation::None},
        {"100-continue", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n", Expectation::Continue},
        {"any case", "POST / HTTP/1.1\r\nHost: a\r\nexpect: 100-Continue\r\n\r\n", Expectation::Continue},
        {"empty value", "POST / HTTP/1.1\r\nHost: a\r\nExpect:\r\n\r\n", Expectation::None},
        {"other", "POST / HTTP/1.1\r\nHost: a\r\nExpect: foo\r\n\r\n", Expectation::Unsupported},
        {"100-continue with a parameter", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue;a=b\r\n\r\n", Expectation::Unsupported},
        {"other in a list", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, foo\r\n\r\n", Expectation::Unsupported},
        {"other in a second field", "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nExpect: foo\r\n\r\n", Expectation::Unsupported},
        {"other then 100-continue", "POST / HTTP/1.1\r\nHost: a\r\nExpect: foo\r\nExpect: 100-continue\r\n\r\n", Expectation::Unsupported},
        {"ignored in HTTP/1.0", "POST / HTTP/1.0\r\nExpect: foo\r\n\r\n", Expectation::None},
        {"100-continue ignored in HTTP/1.0", "POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", Expectation::None},
    };
    sse::Request r;
    for (const ExpectCase& c : cases) {
        INFO(c.name);
        REQUIRE(sse::parse_request(c.input, r).status == kComplete);
        CHECK(r.expectation == c.expectation);
    }
}

TEST_CASE("parse_request: header names and trimmed values") {
    std::string input = "GET / HTTP/1.1\r\nHost: \t example \t\r\nX-Empty:\r\nx-two: 1\r\nX-Two: 2\r\n\r\n";
    sse::Request r;
    REQUIRE(sse::parse_request(input, r).status == kComplete);
    REQUIRE(r.header_count == 4);
    CHECK(r.headers[0].name == "Host");
    CHECK(r.headers[0].value == "example");
    REQUIRE(r.find("HOST") != nullptr);
    CHECK(r.find("HOST")->value == "example");
    REQUIRE(r.find("x-empty") != nullptr);
    CHECK(r.find("x-empty")->value.empty());
    REQUIRE(r.find("X-TWO") != nullptr);
    CHECK(r.find("X-TWO")->value == "1");
    CHECK(r.find("X-Missing") == nullptr);
}

TEST_CASE("parse_request: bytes after the head are left to the caller") {
    std::string head = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
    sse::Request r;
    sse::ParseResult result = sse::parse_request(head + "abcGET / HTTP/1.1\r\n", r);
    CHECK(result.status == kComplete);
    CHECK(result.consumed == head.size());
    CHECK(r.content_length == 3);
}

TEST_CASE("parse_request: a reused Request holds nothing from the last call") {
    sse::Request r;
    REQUIRE(sse::parse_request("POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\n", r).status == kComplete);
    REQUIRE(sse::parse_request("GET /b HTTP/1.1\r\nHost: a\r\n\r\n", r).status == kComplete);
    CHECK(r.body_kind == BodyKind::None);
    CHECK(r.content_length == 0);
    CHECK(r.keep_alive);
    CHECK(r.version_minor == 1);
    CHECK(r.query.empty());
}

TEST_CASE("parse_request: a huge line is refused from its first kilobytes") {
    std::string megabyte(1024 * 1024, 'a');
    sse::Request r;
    sse::ParseResult line = sse::parse_request("GET /" + megabyte, r);
    CHECK(line.status == kError);
    CHECK(line.error_status == 414);
    sse::ParseResult header = sse::parse_request("GET / HTTP/1.1\r\nX: " + megabyte, r);
    CHECK(header.status == kError);
    CHECK(header.error_status == 431);
}

TEST_CASE("parse_request: error reasons name the problem") {
    struct Reason {
        const char* input;
        std::string_view reason;
    };
    const Reason reasons[] = {
        {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", "whitespace before colon"},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "duplicate Host header"},
        {"GET / HTTP/1.1\r\n\r\n", "missing Host header"},
        {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "invalid Host header"},
        {"GET / HTTP/1.1\r\nHost: a\r\n b\r\n\r\n", "obsolete line folding"},
        {"GET / HTTP/1.1\rHost: a\r\n\r\n", "bare CR"},
        {"GET / HTTP/3.0\r\nHost: a\r\n\r\n", "HTTP version not supported"},
    };
    for (const Reason& r : reasons) {
        INFO(r.input);
        sse::Request request;
        CHECK(sse::parse_request(r.input, request).error_reason == r.reason);
    }
}

TEST_CASE("iequals") {
    CHECK(sse::iequals("Content-Length", "content-LENGTH"));
    CHECK(sse::iequals("", ""));
    CHECK_FALSE(sse::iequals("Host", "Hosts"));
    CHECK_FALSE(sse::iequals("Host", "Hose"));
    CHECK_FALSE(sse::iequals("a\xc3", "A\xe3"));  // only ASCII letters fold
}

}  // namespace

TEST_CASE("binary junk is refused before any line end arrives") {
    sse::Request request;
    for (std::string junk : {"\x16\x03\x01\x02\x00"s, "\x01\x02"s, "GE\x80"s, "G(T"s}) {
        CAPTURE(junk);
        auto result = sse::parse_request(junk, request);
        CHECK(result.status == ParseStatus::Error);
        CHECK(result.error_status == 400);
    }
    CHECK(sse::parse_request("GET", request).status == ParseStatus::Incomplete);
}
