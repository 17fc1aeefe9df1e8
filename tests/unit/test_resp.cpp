// RESP2: command encoding, reply scanning (complete / incomplete / error)
// and parsing, including every prefix of every reply.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "redis/resp.h"

using sse::RespValue;
using sse::ScanResult;

TEST_CASE("commands are arrays of bulk strings, binary-safe") {
    CHECK(sse::encode_command({"PING"}) == "*1\r\n$4\r\nPING\r\n");
    CHECK(sse::encode_command({"XADD", "k", "*", "data", std::string_view("a\r\nb\0c", 6)}) ==
          std::string("*5\r\n$4\r\nXADD\r\n$1\r\nk\r\n$1\r\n*\r\n$4\r\ndata\r\n$6\r\na\r\nb\0c\r\n", 50));
}

TEST_CASE("every kind of reply scans and parses") {
    struct Case {
        const char* name;
        std::string bytes;
        RespValue::Type type;
    };
    const Case cases[] = {
        {"simple string", "+OK\r\n", RespValue::Type::SimpleString},
        {"error", "-ERR wrong type\r\n", RespValue::Type::Error},
        {"integer", ":-42\r\n", RespValue::Type::Integer},
        {"bulk", "$5\r\nhe\r\no\r\n", RespValue::Type::Bulk},
        {"empty bulk", "$0\r\n\r\n", RespValue::Type::Bulk},
        {"null bulk", "$-1\r\n", RespValue::Type::Null},
        {"null array", "*-1\r\n", RespValue::Type::Null},
        {"empty array", "*0\r\n", RespValue::Type::Array},
        {"xread shape", "*1\r\n*2\r\n$1\r\nk\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$5\r\ntopic\r\n$4\r\nnews\r\n",
         RespValue::Type::Array},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        std::size_t length = 0;
        REQUIRE(sse::scan_reply(c.bytes, length) == ScanResult::Complete);
        CHECK(length == c.bytes.size());
        for (std::size_t cut = 0; cut < c.bytes.size(); ++cut) {
            std::size_t ignored = 0;
            CHECK(sse::scan_reply(c.bytes.substr(0, cut), ignored) == ScanResult::Incomplete);
        }
        CHECK(sse::parse_reply(c.bytes).type == c.type);
    }
}

TEST_CASE("parsed values carry their contents; trailing bytes are left") {
    std::string two = "*2\r\n$3\r\n1-1\r\n:7\r\n+NEXT\r\n";
    std::size_t length = 0;
    REQUIRE(sse::scan_reply(two, length) == ScanResult::Complete);
    CHECK(two.substr(length) == "+NEXT\r\n");
    RespValue v = sse::parse_reply(std::string_view(two).substr(0, length));
    REQUIRE(v.elements.size() == 2);
    CHECK(v.elements[0].text == "1-1");
    CHECK(v.elements[1].integer == 7);
    CHECK(sse::parse_reply("-ERR x\r\n").is_error());
    CHECK(sse::parse_reply("-ERR x\r\n").text == "ERR x");
}

TEST_CASE("malformed replies are errors, never incomplete forever") {
    for (const char* bad : {"?what\r\n", ":12a\r\n", "$abc\r\n", "$-2\r\n", "$3\r\nabcXY", "*-5\r\n", "*x\r\n"}) {
        CAPTURE(bad);
        std::size_t length = 0;
        CHECK(sse::scan_reply(bad, length) == ScanResult::Error);
    }
    std::string deep;
    for (int i = 0; i < 20; ++i) deep += "*1\r\n";
    deep += ":1\r\n";
    std::size_t length = 0;
    CHECK(sse::scan_reply(deep, length) == ScanResult::Error);
}
