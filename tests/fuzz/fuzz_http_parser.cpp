// libFuzzer target: the HTTP request parser and the chunked body decoder.
//
// parse_request() must never read outside its input, and its answers must
// agree with each other as the input grows, the way bytes arrive from a
// socket: a prefix of the input may only say Incomplete, or exactly what the
// whole input says. The chunked decoder must decode the same bytes to the
// same result however the input is split between feed() calls.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "http/chunked_decoder.h"
#include "http/http_parser.h"

namespace {

using sse::ParseResult;
using sse::ParseStatus;
using sse::Request;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_http_parser: invariant broken: %s\n", what);
    std::abort();
}

void check(bool ok, const char* what) {
    if (!ok) fail(what);
}

// A copy of `bytes` in a heap block of exactly that size, so AddressSanitizer
// reports a parser that reads even one byte past the end.
std::unique_ptr<char[]> exact_copy(std::string_view bytes) {
    std::unique_ptr<char[]> copy(new char[bytes.size()]);
    if (!bytes.empty()) std::memcpy(copy.get(), bytes.data(), bytes.size());
    return copy;
}

bool inside(std::string_view view, std::string_view input) {
    if (view.empty()) return true;
    return view.data() >= input.data() && view.data() + view.size() <= input.data() + input.size();
}

// What a Complete parse promised: every view lies in the request head.
void check_complete(const ParseResult& result, const Request& request, std::string_view input) {
    check(result.consumed > 0 && result.consumed <= input.size(), "consumed within input");
    std::string_view head = input.substr(0, result.consumed);
    check(inside(request.method, head) && !request.method.empty(), "method inside the head");
    check(inside(request.target, head) && !request.target.empty(), "target inside the head");
    // An absolute-form target without a path ("http://host") gets a static "/".
    check(inside(request.path, head) || request.path == "/", "path inside the head");
    check(inside(request.query, head), "query inside the head");
    check(request.version_minor == 0 || request.version_minor == 1, "version is 1.0 or 1.1");
    check(request.header_count <= sse::kMaxHeaderCount, "header count within its limit");
    for (std::size_t i = 0; i < request.header_count; ++i) {
        const sse::Header& header = request.headers[i];
        check(inside(header.name, head) && !header.name.empty(), "header name inside the head");
        check(inside(header.value, head), "header value inside the head");
    }
}

bool same_request(const Request& a, const Request& b) {
    if (a.method != b.method || a.target != b.target || a.path != b.path || a.query != b.query ||
        a.version_minor != b.version_minor || a.header_count != b.header_count ||
        a.body_kind != b.body_kind || a.keep_alive != b.keep_alive) {
        return false;
    }
    if (a.body_kind == sse::BodyKind::Length && a.content_length != b.content_length) return false;
    for (std::size_t i = 0; i < a.header_count; ++i) {
        if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) return false;
    }
    return true;
}

// The prefix `input[0, length)` parsed on its own must be Incomplete, or
// give the same answer as the whole input (a Complete head that fits in
// the prefix, or the same Error).
void check_prefix(std::string_view input, std::size_t length, const ParseResult& whole,
                  const Request& whole_request) {
    std::unique_ptr<char[]> copy = exact_copy(input.substr(0, length));
    std::string_view prefix(copy.get(), length);
    auto request = std::make_unique<Request>();
    ParseResult result = sse::parse_request(prefix, *request);
    switch (result.status) {
        case ParseStatus::Incomplete:
            check(whole.status != ParseStatus::Complete || whole.consumed > length,
                  "a prefix holding a whole request head is not Incomplete");
            break;
        case ParseStatus::Complete:
            check_complete(result, *request, prefix);
            check(whole.status == ParseStatus::Complete && whole.consumed == result.consumed,
                  "a Complete prefix agrees with the whole input");
            check(same_request(*request, whole_request), "a Complete prefix parses to the same request");
            break;
        case ParseStatus::Error:
            check(whole.status == ParseStatus::Error, "an Error prefix stays an Error");
            check(whole.error_status == result.error_status, "an Error prefix keeps its status");
            break;
    }
}

void fuzz_parser(std::string_view input) {
    auto request = std::make_unique<Request>();
    ParseResult whole = sse::parse_request(input, *request);
    if (whole.status == ParseStatus::Complete) check_complete(whole, *request, input);
    if (whole.status == ParseStatus::Error) {
        int s = whole.error_status;
        check(s == 400 || s == 414 || s == 431 || s == 501 || s == 505, "error status is a documented one");
    }
    // Every prefix of a short input; a handful of well-chosen ones otherwise
    // (just before and at the end of the head, halfway, one byte short).
    if (input.size() <= 128) {
        for (std::size_t n = 0; n < input.size(); ++n) check_prefix(input, n, whole, *request);
        return;
    }
    std::size_t picks[] = {input.size() / 2, input.size() - 1, whole.consumed, whole.consumed - 1};
    for (std::size_t n : picks) {
        if (n < input.size()) check_prefix(input, n, whole, *request);
    }
}

struct Decoded {
    sse::ChunkedDecoder::State state;
    int error_status;
    std::size_t consumed;
    std::string data;
};

// Feeds `input` to a fresh decoder in the pieces ending at `cuts` (sorted),
// stopping when it finishes or fails, as the server does.
template <std::size_t N>
Decoded decode(std::string_view input, const std::size_t (&cuts)[N], std::uint64_t max_body) {
    sse::ChunkedDecoder decoder;
    Decoded out{};
    std::size_t start = 0;
    for (std::size_t cut : cuts) {
        std::string_view piece = input.substr(start, cut - start);
        std::size_t used = decoder.feed(piece, out.data, max_body);
        check(used <= piece.size(), "feed consumes at most its input");
        out.consumed += used;
        if (decoder.state() == sse::ChunkedDecoder::State::NeedMore) {
            check(used == piece.size(), "NeedMore consumes everything");
        }
        check(out.data.size() <= max_body, "decoded body within max_body");
        if (decoder.state() != sse::ChunkedDecoder::State::NeedMore) break;
        start = cut;
    }
    out.state = decoder.state();
    out.error_status = decoder.error_status();
    return out;
}

void fuzz_chunked(std::string_view input) {
    if (input.empty()) return;
    // The first byte picks the body limit and the split; the rest is the body.
    auto control = static_cast<unsigned char>(input[0]);
    std::string_view body = input.substr(1);
    std::uint64_t max_body = (control & 0x80) ? 16 : 64 * 1024;
    std::size_t cut = body.size() * (control & 0x7F) / 0x7F;

    std::size_t one[] = {body.size()};
    std::size_t two[] = {cut, body.size()};
    Decoded whole = decode(body, one, max_body);
    Decoded split = decode(body, two, max_body);
    check(whole.state == split.state, "the split does not change the outcome");
    check(whole.error_status == split.error_status, "the split does not change the error");
    if (whole.state == sse::ChunkedDecoder::State::Error) {
        check(whole.error_status == 400 || whole.error_status == 413 || whole.error_status == 431,
              "decoder error status is 400, 413 or 431");
        return;
    }
    check(whole.data == split.data, "the split does not change the data");
    check(whole.consumed == split.consumed, "the split does not change the bytes used");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    fuzz_parser(input);
    fuzz_chunked(input);
    return 0;
}
