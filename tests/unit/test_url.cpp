// Tests for src/url: tables of inputs and their decoded results.
#include "http/url.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace std::string_literals;

// Each input is copied into a heap block of exactly its size, with no NUL
// after it, so the sanitizer build reports any read past its end.
struct ExactCopy {
    explicit ExactCopy(std::string_view text) : bytes(text.begin(), text.end()) {}
    std::string_view view() const { return {bytes.data(), bytes.size()}; }
    std::vector<char> bytes;
};

// nullopt in a table row: the input must be refused.
const std::optional<std::string> kRefused = std::nullopt;

struct DecodeCase {
    const char* name;
    const char* input;
    std::optional<std::string> expected;
};

const DecodeCase kDecodeCases[] = {
    {"empty", "", ""},
    {"plain", "/events/news", "/events/news"},
    {"space", "a%20b", "a b"},
    {"lower and upper hex", "%2f%2F", "//"},
    {"high byte", "caf%C3%A9", "caf\xc3\xa9"},
    {"plus stays", "a+b", "a+b"},
    {"escaped percent", "100%25", "100%"},
    {"escape at end", "%41", "A"},
    {"lone percent", "%", kRefused},
    {"one digit", "%4", kRefused},
    {"one digit mid", "a%4g", kRefused},
    {"not hex", "%zz", kRefused},
    {"NUL", "a%00b", kRefused},
    {"decoded once only", "%2541", "%41"},
};

TEST_CASE("percent_decode") {
    for (const DecodeCase& c : kDecodeCases) {
        INFO(c.name);
        ExactCopy input(c.input);
        CHECK(sse::percent_decode(input.view()) == c.expected);
    }
}

struct QueryCase {
    const char* name;
    const char* query;
    const char* param;
    std::optional<std::string> expected;
};

const QueryCase kQueryCases[] = {
    {"single", "topic=news", "topic", "news"},
    {"second pair", "a=1&topic=news", "topic", "news"},
    {"first of two", "topic=a&topic=b", "topic", "a"},
    {"absent", "a=1&b=2", "topic", kRefused},
    {"empty query", "", "topic", kRefused},
    {"prefix is not a match", "topics=x&top=y", "topic", kRefused},
    {"no equals", "a&topic&b=1", "topic", ""},
    {"empty value", "topic=&b=1", "topic", ""},
    {"plus is space", "q=a+b", "q", "a b"},
    {"escaped plus", "q=a%2Bb", "q", "a+b"},
    {"escaped value", "q=caf%C3%A9", "q", "caf\xc3\xa9"},
    {"escaped name", "top%69c=x", "topic", "x"},
    {"equals in value", "q=a=b", "q", "a=b"},
    {"empty pairs skipped", "&&q=1&", "q", "1"},
    {"malformed value", "q=%zz", "q", kRefused},
    {"NUL value", "q=%00", "q", kRefused},
    {"malformed name skipped", "%zz=1&q=2", "q", "2"},
};

TEST_CASE("query_param") {
    for (const QueryCase& c : kQueryCases) {
        INFO(c.name);
        ExactCopy query(c.query);
        CHECK(sse::query_param(query.view(), c.param) == c.expected);
    }
}

}  // namespace
