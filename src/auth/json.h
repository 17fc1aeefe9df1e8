// A small, strict JSON parser (RFC 8259) for the headers and claims of
// tokens: objects, arrays, strings, numbers, true, false and null.
//
// Strict means one reading per text: invalid UTF-8, raw control bytes in
// strings, lone surrogates, leading zeros, trailing commas, a byte order
// mark and anything after the value are errors, and so are two members of
// one object with the same name (after unescaping: "exp" and "\u0065xp"
// are the same name), so a token with two "exp" claims is refused rather
// than read one way here and another way elsewhere.
//
// The parser recurses once per nesting level, at most kMaxJsonDepth; the
// caller bounds the input size (a token is at most kMaxTokenBytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sse {

// Arrays and objects nested deeper than this are refused. Token headers
// and claims need 3 levels; 16 leaves room without letting a hostile
// input run the stack down.
inline constexpr std::size_t kMaxJsonDepth = 16;

enum class JsonType { Null, Bool, Number, String, Array, Object };

struct JsonMember;

struct JsonValue {
    JsonType type = JsonType::Null;
    bool boolean = false;              // Bool
    std::string text;                  // String: decoded UTF-8; Number: as written
    std::vector<JsonValue> items;      // Array, in order
    std::vector<JsonMember> members;   // Object, in input order, names unique

    // The value of the object member `name`, or nullptr (also when this is
    // not an object).
    const JsonValue* find(std::string_view name) const;

    // The number as an int64 when it is written as an integer (no fraction,
    // no exponent: "12", "-3", not "12.0" or "1e3") and fits; else nullopt.
    std::optional<std::int64_t> as_int64() const;
};

struct JsonMember {
    std::string name;
    JsonValue value;
};

// Parses one JSON text (a value with optional whitespace around it).
// nullopt if it is not valid JSON as described above.
std::optional<JsonValue> parse_json(std::string_view text);

}  // namespace sse
