// Tests for src/auth/json: tables of valid texts (with what they parse
// to, written back compactly) and of texts that must be refused.
#include "auth/json.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <limits>
#include <optional>
#include <string>

#include "guarded_bytes.h"

namespace {

using namespace std::string_literals;

void dump(const sse::JsonValue& value, std::string& out);

// Strings are written back with only '"', '\' and control bytes escaped,
// so a decoded escape shows as the UTF-8 it became.
void dump_string(const std::string& text, std::string& out) {
    out += '"';
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char escape[7];
            std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(c));
            out += escape;
        } else {
            out += c;
        }
    }
    out += '"';
}

void dump(const sse::JsonValue& value, std::string& out) {
    switch (value.type) {
    case sse::JsonType::Null: out += "null"; break;
    case sse::JsonType::Bool: out += value.boolean ? "true" : "false"; break;
    case sse::JsonType::Number: out += value.text; break;
    case sse::JsonType::String: dump_string(value.text, out); break;
    case sse::JsonType::Array:
        out += '[';
        for (std::size_t i = 0; i < value.items.size(); ++i) {
            if (i > 0) out += ',';
            dump(value.items[i], out);
        }
        out += ']';
        break;
    case sse::JsonType::Object:
        out += '{';
        for (std::size_t i = 0; i < value.members.size(); ++i) {
            if (i > 0) out += ',';
            dump_string(value.members[i].name, out);
            out += ':';
            dump(value.members[i].value, out);
        }
        out += '}';
        break;
    }
}

// The parse of `text` written back, or "refused".
std::string parsed(std::string_view text) {
    static sse::test::GuardedBytes guard(4096);
    std::optional<sse::JsonValue> value = sse::parse_json(guard.place(text));
    if (!value) return "refused";
    std::string out;
    dump(*value, out);
    return out;
}

struct ValidCase {
    const char* name;
    std::string text;
    std::string expected;
};

const ValidCase kValidCases[] = {
    {"null", "null", "null"},
    {"true with whitespace", " \t\r\ntrue\n", "true"},
    {"false", "false", "false"},
    {"zero", "0", "0"},
    {"minus zero", "-0", "-0"},
    {"integer", "1300819380", "1300819380"},
    {"decimal and exponent kept as written", "-3.25e+10", "-3.25e+10"},
    {"capital exponent", "1E-2", "1E-2"},
    {"fraction", "0.5", "0.5"},
    {"empty string", R"("")", R"("")"},
    {"short escapes", R"("\"\\\/\b\f\n\r\t")", R"("\"\\/\u0008\u000c\u000a\u000d\u0009")"},
    {"\\u ASCII", R"("\u0041")", R"("A")"},
    {"\\u two bytes", R"("\u00e9")", "\"\xc3\xa9\""},
    {"\\u three bytes, upper hex", R"("\u20AC")", "\"\xe2\x82\xac\""},
    {"\\u NUL", R"("a\u0000b")", R"("a\u0000b")"},
    {"surrogate pair", R"("\ud83d\ude00")", "\"\xf0\x9f\x98\x80\""},
    {"highest surrogate pair", R"("\udbff\udfff")", "\"\xf4\x8f\xbf\xbf\""},
    {"raw UTF-8", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
    {"raw U+D7FF and U+E000", "\"\xed\x9f\xbf\xee\x80\x80\"", "\"\xed\x9f\xbf\xee\x80\x80\""},
    {"raw U+10FFFF", "\"\xf4\x8f\xbf\xbf\"", "\"\xf4\x8f\xbf\xbf\""},
    {"DEL is not a control byte here", "\"\x7f\"", "\"\x7f\""},
    {"empty array", "[ ]", "[]"},
    {"empty object", "{ }", "{}"},
    {"nested arrays", "[1,[2,[3]]]", "[1,[2,[3]]]"},
    {"object keeps member order", R"({"b":1,"a":[true,null]})", R"({"b":1,"a":[true,null]})"},
    {"whitespace everywhere", " { \"a\" : [ 1 , 2 ] , \"b\" : { } } \r\n", R"({"a":[1,2],"b":{}})"},
    {"names differing in case", R"({"a":1,"A":2})", R"({"a":1,"A":2})"},
    {"one name in two objects", R"({"o":{"a":1},"a":2})", R"({"o":{"a":1},"a":2})"},
    {"RFC 7515 A.1 payload", "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}",
     R"({"iss":"joe","exp":1300819380,"http://example.com/is_root":true})"},
};

TEST_CASE("parse_json: valid texts") {
    for (const ValidCase& c : kValidCases) {
        INFO(c.name);
        CHECK(parsed(c.text) == c.expected);
    }
}

struct InvalidCase {
    const char* name;
    std::string text;
};

const InvalidCase kInvalidCases[] = {
    {"empty", ""},
    {"only whitespace", " \n"},
    {"short literal", "nul"},
    {"long literal", "nulll"},
    {"capital literal", "True"},
    {"NaN", "NaN"},
    {"Infinity", "-Infinity"},
    {"minus alone", "-"},
    {"plus sign", "+1"},
    {"leading zero", "01"},
    {"negative leading zero", "-01"},
    {"leading zero in an array", "[00]"},
    {"dot without digits", "1."},
    {"dot first", ".5"},
    {"exponent without digits", "1e"},
    {"exponent sign without digits", "1e+"},
    {"hex", "0x10"},
    {"two values", "1 2"},
    {"two objects", "{}{}"},
    {"garbage after", "[]x"},
    {"NUL after", "{}\0"s},
    {"comment", "{} // c"},
    {"block comment", "/* c */ {}"},
    {"byte order mark", "\xef\xbb\xbf{}"},
    {"trailing comma in array", "[1,]"},
    {"leading comma in array", "[,1]"},
    {"trailing comma in object", R"({"a":1,})"},
    {"comma alone in object", "{,}"},
    {"name without value", R"({"a"})"},
    {"missing colon", R"({"a" 1})"},
    {"bare name", "{a:1}"},
    {"single quotes", "{'a':1}"},
    {"non-string name", "{1:1}"},
    {"unclosed array", "[1"},
    {"unclosed object", R"({"a":1)"},
    {"unclosed string", R"("abc)"},
    {"unknown escape", R"("\x41")"},
    {"backslash at end", "\"\\"},
    {"short \\u", R"("\u12")"},
    {"\\u not hex", R"("\u12G4")"},
    {"lone high surrogate", R"("\ud800")"},
    {"lone low surrogate", R"("\udc00")"},
    {"high surrogate then a letter", R"("\ud800x")"},
    {"high surrogate then not a low one", R"("\ud800\u0041")"},
    {"two high surrogates", R"("\ud800\ud800")"},
    {"surrogates reversed", R"("\ude00\ud83d")"},
    {"raw newline", "\"a\nb\""},
    {"raw tab", "\"\t\""},
    {"raw NUL", "\"\0\""s},
    {"raw 0x1f", "\"\x1f\""},
    {"UTF-8 lone continuation", "\"\x80\""},
    {"UTF-8 overlong slash", "\"\xc0\xaf\""},
    {"UTF-8 overlong two bytes", "\"\xc1\xbf\""},
    {"UTF-8 overlong three bytes", "\"\xe0\x80\xaf\""},
    {"UTF-8 surrogate", "\"\xed\xa0\x80\""},
    {"UTF-8 overlong four bytes", "\"\xf0\x80\x80\xaf\""},
    {"UTF-8 above U+10FFFF", "\"\xf4\x90\x80\x80\""},
    {"UTF-8 lead F5", "\"\xf5\x80\x80\x80\""},
    {"UTF-8 lead FF", "\"\xff\""},
    {"UTF-8 truncated before the quote", "\"\xc3\""},
    {"UTF-8 truncated three bytes", "\"\xe2\x82\""},
    {"UTF-8 truncated at the end", "\"\xf0\x9f\x98"},
    {"UTF-8 outside a string", "\xc3\xa9"},
    {"duplicate name", R"({"a":1,"a":2})"},
    {"duplicate name, same value", R"({"exp":1,"exp":1})"},
    {"duplicate name through an escape", R"({"exp":1,"\u0065xp":2})"},
    {"duplicate name in a nested object", R"({"o":{"a":1,"a":1}})"},
};

TEST_CASE("parse_json: refusals") {
    for (const InvalidCase& c : kInvalidCases) {
        INFO(c.name);
        CHECK(parsed(c.text) == "refused");
    }
}

TEST_CASE("parse_json: nesting up to kMaxJsonDepth") {
    const std::size_t depth = sse::kMaxJsonDepth;
    CHECK(parsed(std::string(depth, '[') + std::string(depth, ']')) != "refused");
    CHECK(parsed(std::string(depth + 1, '[') + std::string(depth + 1, ']')) == "refused");
    std::string objects;
    for (std::size_t i = 0; i < depth; ++i) objects += R"({"a":)";
    CHECK(parsed(objects + "1" + std::string(depth, '}')) != "refused");
    CHECK(parsed("[" + objects + "1" + std::string(depth, '}') + "]") == "refused");
}

struct IntegerCase {
    const char* text;
    std::optional<std::int64_t> expected;
};

const IntegerCase kIntegerCases[] = {
    {"0", 0},
    {"-0", 0},
    {"1300819380", 1300819380},
    {"-1", -1},
    {"9223372036854775807", std::numeric_limits<std::int64_t>::max()},
    {"-9223372036854775808", std::numeric_limits<std::int64_t>::min()},
    {"9223372036854775808", std::nullopt},
    {"-9223372036854775809", std::nullopt},
    {"100000000000000000000", std::nullopt},
    {"1.0", std::nullopt},
    {"1.5", std::nullopt},
    {"1e3", std::nullopt},
    {"1E3", std::nullopt},
    {R"("12")", std::nullopt},
    {"true", std::nullopt},
    {"null", std::nullopt},
};

TEST_CASE("JsonValue::as_int64") {
    for (const IntegerCase& c : kIntegerCases) {
        INFO(c.text);
        std::optional<sse::JsonValue> value = sse::parse_json(c.text);
        REQUIRE(value);
        CHECK(value->as_int64() == c.expected);
    }
}

TEST_CASE("JsonValue::find") {
    std::optional<sse::JsonValue> object = sse::parse_json(R"({"alg":"HS256","n":null})");
    REQUIRE(object);
    REQUIRE(object->find("alg") != nullptr);
    CHECK(object->find("alg")->text == "HS256");
    REQUIRE(object->find("n") != nullptr);
    CHECK(object->find("n")->type == sse::JsonType::Null);
    CHECK(object->find("typ") == nullptr);
    CHECK(object->find("ALG") == nullptr);
    std::optional<sse::JsonValue> array = sse::parse_json(R"(["alg"])");
    REQUIRE(array);
    CHECK(array->find("alg") == nullptr);
}

}  // namespace
