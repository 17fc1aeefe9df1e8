// Tests for src/chunked_decoder: a table of chunked bodies, each fed whole
// (ending before an unreadable page) and byte by byte.
#include "http/chunked_decoder.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "guarded_bytes.h"

namespace {

using namespace std::string_literals;
using sse::ChunkedDecoder;
using sse::test::GuardedBytes;


constexpr std::uint64_t kMaxBody = 32;
constexpr auto kNeedMore = ChunkedDecoder::State::NeedMore;
constexpr auto kDone = ChunkedDecoder::State::Done;
constexpr auto kFailed = ChunkedDecoder::State::Error;

struct ChunkCase {
    const char* name;
    std::string body;
    ChunkedDecoder::State state;
    int error;            // expected error_status when state is kFailed
    const char* decoded;  // expected output (checked unless kFailed)
    std::size_t left;     // bytes feed() must leave unconsumed (kDone only)
};

const std::vector<ChunkCase>& chunk_cases() {
    static const std::vector<ChunkCase> table = {
        {"one chunk", "5\r\nhello\r\n0\r\n\r\n", kDone, 0, "hello", 0},
        {"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", kDone, 0, "hello world", 0},
        {"empty body", "0\r\n\r\n", kDone, 0, "", 0},
        {"bare LF", "5\nhello\n0\n\n", kDone, 0, "hello", 0},
        {"hex sizes", "a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n", kDone, 0, "0123456789abcdefghijk", 0},
        {"leading zeros", "0005\r\nhello\r\n000\r\n\r\n", kDone, 0, "hello", 0},
        {"16 hex digits", "0000000000000005\r\nhello\r\n0\r\n\r\n", kDone, 0, "hello", 0},
        {"extensions", "5;a=b;c\r\nhello\r\n0;last=\"yes\"\r\n\r\n", kDone, 0, "hello", 0},
        {"extension name", "5;a\r\nhello\r\n0\r\n\r\n", kDone, 0, "hello", 0},
        {"extension token value", "5;a=b\r\nhello\r\n0\r\n\r\n", kDone, 0, "hello", 0},
        {"extension with BWS", "5 ; a = \"b c\"\r\nhello\r\n0\r\n\r\n", kDone, 0, "hello", 0},
        {"extension with tabs", "5\t;\ta\t=\tb\r\nhello\r\n0\r\n\r\n", kDone, 0, "hello", 0},
        {"extension quoted pair", "5;a=\"b\\\"c\"\r\nhello\r\n0\r\n\r\n", kDone, 0, "hello", 0},
        {"extension empty quotes", "5;a=\"\"\r\nhello\r\n0\r\n\r\n", kDone, 0, "hello", 0},
        {"extension obs-text", "5;a=\"caf\xc3\xa9\\\xa9\"\r\nhello\r\n0\r\n\r\n", kDone, 0, "hello", 0},
        {"several extensions", "5;a;b=c ;d=\"e;f\";g\r\nhello\r\n0;h\r\n\r\n", kDone, 0, "hello", 0},
        {"extension bare LF", "5;a=\"b\"\nhello\n0\n\n", kDone, 0, "hello", 0},
        {"extension at the limit", "5;" + std::string(sse::kMaxChunkExtensionBytes - 1, 'x') + "\r\nhello\r\n0\r\n\r\n", kDone, 0, "hello", 0},
        {"trailers", "5\r\nhello\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\n", kDone, 0, "hello", 0},
        {"pipelined bytes", "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n", kDone, 0, "hello", 16},
        {"cut in data", "5\r\nhel", kNeedMore, 0, "hel", 0},
        {"cut before trailer end", "5\r\nhello\r\n0\r\nX: 1\r\n", kNeedMore, 0, "hello", 0},
        {"no size", "\r\nhello\r\n", kFailed, 400, "", 0},
        {"extension without size", ";a\r\n", kFailed, 400, "", 0},
        {"not hex", "g\r\n", kFailed, 400, "", 0},
        {"0x prefix", "0x5\r\nhello\r\n", kFailed, 400, "", 0},
        {"negative", "-1\r\n", kFailed, 400, "", 0},
        {"space before size", " 5\r\nhello\r\n", kFailed, 400, "", 0},
        {"space after size", "5 \r\nhello\r\n", kFailed, 400, "", 0},
        {"bare CR after size", "5\rhello\r\n", kFailed, 400, "", 0},
        {"data too long", "5\r\nhelloX\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"no line end after data", "5\r\nhelloX0\r\n\r\n", kFailed, 400, "", 0},
        {"bare CR after data", "5\r\nhello\rX", kFailed, 400, "", 0},
        {"17 hex digits", "00000000000000005\r\nhello\r\n", kFailed, 400, "", 0},
        {"huge size", "FFFFFFFFFFFFFFFF\r\n", kFailed, 413, "", 0},
        {"one chunk too big", "21\r\n", kFailed, 413, "", 0},
        {"total too big", "10\r\n0123456789abcdef\r\n11\r\n", kFailed, 413, "", 0},
        {"exactly max_body", "10\r\n0123456789abcdef\r\n10\r\nghijklmnopqrstuv\r\n0\r\n\r\n", kDone, 0, "0123456789abcdefghijklmnopqrstuv", 0},
        {"control byte in extension", "5;a\x01\r\nhello\r\n", kFailed, 400, "", 0},
        {"extension over the limit", "5;" + std::string(sse::kMaxChunkExtensionBytes, 'x') + "\r\nhello\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"extension far too long", "5;" + std::string(2000, 'x'), kFailed, 400, "", 0},
        {"extension without a name", "5;\r\nhello\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"extension without a value", "5;a=\r\nhello\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"extension with an open quote", "5;a=\"b\r\nhello\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"extension value without a name", "5;=b\r\nhello\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"extension name with a space", "5;a b\r\nhello\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"extension control byte in quotes", "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"extension control byte quoted", "5;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"extension trailing ;", "5;a;\r\nhello\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"extension trailing space", "5;a \r\nhello\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"extension two =", "5;a=b=c\r\nhello\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"extension bytes after quotes", "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"extension comma", "5;a,b\r\nhello\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"extension non-ASCII token", "5;caf\xc3\xa9\r\nhello\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"space then no ;", "5 a\r\nhello\r\n0\r\n\r\n", kFailed, 400, "", 0},
        {"bad extension on last chunk", "0;\r\n\r\n", kFailed, 400, "", 0},
        {"control byte in trailer", "0\r\nX: a\x01\r\n\r\n", kFailed, 400, "", 0},
        {"bare CR in trailer", "0\r\nX: a\rb\r\n\r\n", kFailed, 400, "", 0},
        {"trailers too large", "0\r\nX: " + std::string(sse::kMaxHeaderBytes, 'v') + "\r\n\r\n", kFailed, 431, "", 0},
    };
    return table;
}

TEST_CASE("ChunkedDecoder: table, fed at once from before an unreadable page") {
    for (const ChunkCase& c : chunk_cases()) {
        INFO(c.name);
        GuardedBytes memory(c.body.size());
        ChunkedDecoder decoder;
        std::string out;
        std::size_t used = decoder.feed(memory.place(c.body), out, kMaxBody);
        CHECK(decoder.state() == c.state);
        if (c.state == kFailed) CHECK(decoder.error_status() == c.error);
        if (c.state != kFailed) CHECK(out == c.decoded);
        if (c.state != kFailed) CHECK(used == c.body.size() - c.left);
        CHECK(out.size() <= kMaxBody);
    }
}

TEST_CASE("ChunkedDecoder: feeding byte by byte gives the same result") {
    for (const ChunkCase& c : chunk_cases()) {
        INFO(c.name);
        GuardedBytes memory(1);
        ChunkedDecoder decoder;
        std::string out;
        std::size_t used = 0;
        for (std::size_t i = 0; i < c.body.size() && decoder.state() == kNeedMore; ++i) {
            used += decoder.feed(memory.place(std::string_view(c.body).substr(i, 1)), out, kMaxBody);
        }
        CHECK(decoder.state() == c.state);
        if (c.state == kFailed) CHECK(decoder.error_status() == c.error);
        if (c.state != kFailed) CHECK(out == c.decoded);
        if (c.state != kFailed) CHECK(used == c.body.size() - c.left);
    }
}

TEST_CASE("ChunkedDecoder: nothing is consumed once the body is done") {
    ChunkedDecoder decoder;
    std::string out;
    CHECK(decoder.feed("0\r\n\r\n", out, kMaxBody) == 5);
    REQUIRE(decoder.state() == kDone);
    CHECK(decoder.feed("GET / HTTP/1.1\r\n", out, kMaxBody) == 0);
    CHECK(out.empty());
}

}  // namespace
