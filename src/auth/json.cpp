// A recursive-descent JSON parser following the grammar of RFC 8259:
// one function per production, each returning false on the first error.
#include "auth/json.h"

#include <algorithm>
#include <charconv>

namespace sse {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A code point (never a surrogate, at most U+10FFFF) as UTF-8.
void append_utf8(std::string& out, std::uint32_t code_point) {
    if (code_point < 0x80) {
        out += static_cast<char>(code_point);
    } else if (code_point < 0x800) {
        out += static_cast<char>(0xC0 | code_point >> 6);
        out += static_cast<char>(0x80 | (code_point & 0x3F));
    } else if (code_point < 0x10000) {
        out += static_cast<char>(0xE0 | code_point >> 12);
        out += static_cast<char>(0x80 | (code_point >> 6 & 0x3F));
        out += static_cast<char>(0x80 | (code_point & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | code_point >> 18);
        out += static_cast<char>(0x80 | (code_point >> 12 & 0x3F));
        out += static_cast<char>(0x80 | (code_point >> 6 & 0x3F));
        out += static_cast<char>(0x80 | (code_point & 0x3F));
    }
}

bool names_unique(const std::vector<JsonMember>& members) {
    std::vector<std::string_view> names;
    names.reserve(members.size());
    for (const JsonMember& member : members) names.push_back(member.name);
    std::sort(names.begin(), names.end());
    return std::adjacent_find(names.begin(), names.end()) == names.end();
}

class Parser {
public:
    explicit Parser(std::string_view text) : text_(text) {}

    std::optional<JsonValue> parse_document() {
        JsonValue value;
        if (!parse_value(value, 0)) return std::nullopt;
        skip_whitespace();
        if (pos_ != text_.size()) return std::nullopt;
        return value;
    }

private:
    bool parse_value(JsonValue& out, std::size_t depth);
    bool parse_object(JsonValue& out, std::size_t depth);
    bool parse_array(JsonValue& out, std::size_t depth);
    bool parse_string(std::string& out);
    bool parse_escape(std::string& out);
    bool parse_unicode_escape(std::string& out);
    bool parse_hex4(std::uint32_t& out);
    bool copy_utf8_sequence(std::string& out);
    bool parse_number(std::string& out);
    bool parse_digits();
    bool parse_literal(std::string_view word);

    // The next byte, or NUL at the end: a NUL in the text is never valid
    // where peek() is used, so the two need no telling apart.
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
    bool consume(char c) {
        if (pos_ == text_.size() || text_[pos_] != c) return false;
        ++pos_;
        return true;
    }
    void skip_whitespace() {
        while (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r') ++pos_;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

// `depth` counts the arrays and objects around this value.
bool Parser::parse_value(JsonValue& out, std::size_t depth) {
    skip_whitespace();
    switch (peek()) {
    case '{': return parse_object(out, depth + 1);
    case '[': return parse_array(out, depth + 1);
    case '"': out.type = JsonType::String; return parse_string(out.text);
    case 't': out.type = JsonType::Bool; out.boolean = true; return parse_literal("true");
    case 'f': out.type = JsonType::Bool; return parse_literal("false");
    case 'n': out.type = JsonType::Null; return parse_literal("null");
    default: out.type = JsonType::Number; return parse_number(out.text);
    }
}

bool Parser::parse_object(JsonValue& out, std::size_t depth) {
    if (depth > kMaxJsonDepth) return false;
    out.type = JsonType::Object;
    ++pos_;  // '{'
    skip_whitespace();
    if (consume('}')) return true;
    do {
        skip_whitespace();
        JsonMember member;
        if (peek() != '"' || !parse_string(member.name)) return false;
        skip_whitespace();
        if (!consume(':') || !parse_value(member.value, depth)) return false;
        out.members.push_back(std::move(member));
        skip_whitespace();
    } while (consume(','));
    return consume('}') && names_unique(out.members);
}

bool Parser::parse_array(JsonValue& out, std::size_t depth) {
    if (depth > kMaxJsonDepth) return false;
    out.type = JsonType::Array;
    ++pos_;  // '['
    skip_whitespace();
    if (consume(']')) return true;
    do {
        JsonValue item;
        if (!parse_value(item, depth)) return false;
        out.items.push_back(std::move(item));
        skip_whitespace();
    } while (consume(','));
    return consume(']');
}

// A string's bytes are copied as they are, except escapes (decoded) and
// bytes of 0x80 and above (checked to form valid UTF-8 first).
bool Parser::parse_string(std::string& out) {
    ++pos_;  // '"'
    while (pos_ < text_.size()) {
        auto c = static_cast<unsigned char>(text_[pos_]);
        if (c == '"') {
            ++pos_;
            return true;
        }
        if (c == '\\') {
            if (!parse_escape(out)) return false;
        } else if (c < 0x20) {
            return false;  // control bytes must be escaped (RFC 8259, section 7)
        } else if (c < 0x80) {
            out += static_cast<char>(c);
            ++pos_;
        } else if (!copy_utf8_sequence(out)) {
            return false;
        }
    }
    return false;  // no closing quote
}

bool Parser::parse_escape(std::string& out) {
    ++pos_;  // '\'
    if (pos_ == text_.size()) return false;
    char e = text_[pos_++];
    switch (e) {
    case '"': case '\\': case '/': out += e; return true;
    case 'b': out += '\b'; return true;
    case 'f': out += '\f'; return true;
    case 'n': out += '\n'; return true;
    case 'r': out += '\r'; return true;
    case 't': out += '\t'; return true;
    case 'u': return parse_unicode_escape(out);
    default: return false;
    }
}

// \uXXXX is one UTF-16 code unit. A character above U+FFFF is written as
// a high surrogate escape followed by a low one; either alone is not a
// character and cannot become UTF-8, so it is refused.
bool Parser::parse_unicode_escape(std::string& out) {
    std::uint32_t unit = 0;
    if (!parse_hex4(unit)) return false;
    if (unit >= 0xDC00 && unit <= 0xDFFF) return false;
    if (unit >= 0xD800 && unit <= 0xDBFF) {
        std::uint32_t low = 0;
        if (!consume('\\') || !consume('u') || !parse_hex4(low)) return false;
        if (low < 0xDC00 || low > 0xDFFF) return false;
        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, unit);
    return true;
}

bool Parser::parse_hex4(std::uint32_t& out) {
    if (text_.size() - pos_ < 4) return false;
    for (int i = 0; i < 4; ++i) {
        int digit = hex_value(text_[pos_++]);
        if (digit < 0) return false;
        out = out << 4 | static_cast<std::uint32_t>(digit);
    }
    return true;
}

// One UTF-8 sequence of 2-4 bytes, checked against the table of RFC 3629,
// section 4: no overlong forms, no surrogates, nothing above U+10FFFF. The
// lead byte fixes the length and the range of the second byte.
bool Parser::copy_utf8_sequence(std::string& out) {
    auto lead = static_cast<unsigned char>(text_[pos_]);
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;   // else overlong
        if (lead == 0xED) high = 0x9F;  // else a surrogate
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;   // else overlong
        if (lead == 0xF4) high = 0x8F;  // else above U+10FFFF
    } else {
        return false;
    }
    if (text_.size() - pos_ < length) return false;
    for (std::size_t i = 1; i < length; ++i) {
        auto byte = static_cast<unsigned char>(text_[pos_ + i]);
        if (byte < low || byte > high) return false;
        low = 0x80;
        high = 0xBF;
    }
    out.append(text_.substr(pos_, length));
    pos_ += length;
    return true;
}

// number = [ "-" ] ( "0" / 1-9 *DIGIT ) [ "." 1*DIGIT ] [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]
// A leading zero followed by more digits ("01") stops after the "0", and
// the caller then finds a digit where it expected a separator.
bool Parser::parse_number(std::string& out) {
    std::size_t start = pos_;
    consume('-');
    if (!consume('0') && !parse_digits()) return false;
    if (consume('.') && !parse_digits()) return false;
    if (consume('e') || consume('E')) {
        if (!consume('+')) consume('-');
        if (!parse_digits()) return false;
    }
    out.assign(text_.substr(start, pos_ - start));
    return true;
}

bool Parser::parse_digits() {
    if (!is_digit(peek())) return false;
    while (is_digit(peek())) ++pos_;
    return true;
}

bool Parser::parse_literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
}

}  // namespace

const JsonValue* JsonValue::find(std::string_view name) const {
    for (const JsonMember& member : members) {
        if (member.name == name) return &member.value;
    }
    return nullptr;
}

std::optional<std::int64_t> JsonValue::as_int64() const {
    if (type != JsonType::Number) return std::nullopt;
    if (text.find_first_of(".eE") != std::string::npos) return std::nullopt;
    std::int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::optional<JsonValue> parse_json(std::string_view text) {
    return Parser(text).parse_document();
}

}  // namespace sse
