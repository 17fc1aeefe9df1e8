// libFuzzer target: the token core of src/auth/ (JWT verification, the
// JSON parser, base64url).
//
// Arbitrary bytes rarely carry a valid signature, so most of them stop at
// the header or the signature check. To reach the payload and its claims,
// the input is also signed with the target's own key and verified: the
// JSON paths then see fuzzed text behind a good signature.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/base64url.h"
#include "auth/json.h"
#include "auth/jwt.h"

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_token: invariant broken: %s\n", what);
    std::abort();
}

void check(bool ok, const char* what) {
    if (!ok) fail(what);
}

const std::string kKey = "fuzz-token-key-0123456789abcdef!";
const std::vector<std::string> kKeys = {kKey};
constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::int64_t kLeeway = 30;
const char* const kFixedHeader = R"({"alg":"HS256","typ":"JWT"})";

void dump(const sse::JsonValue& value, std::string& out);

// Only '"', '\' and control bytes are escaped; everything else is written
// as the parser decoded it, so it must be valid UTF-8 for the re-parse.
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

// What parses, written back compactly, parses again to the same value.
void fuzz_json(std::string_view input) {
    std::optional<sse::JsonValue> value = sse::parse_json(input);
    if (!value) return;
    std::string text;
    dump(*value, text);
    std::optional<sse::JsonValue> again = sse::parse_json(text);
    check(again.has_value(), "a parsed value written back parses again");
    std::string text_again;
    dump(*again, text_again);
    check(text == text_again, "a parsed value written back parses to the same value");
}

// Decoding is strict, so whatever decodes is the canonical text of its
// bytes; and any bytes encode to a text that decodes back to them.
void fuzz_base64url(std::string_view input) {
    std::optional<std::string> bytes = sse::base64url_decode(input);
    if (bytes) check(sse::base64url_encode(*bytes) == input, "a decoded text is canonical");
    std::string text = sse::base64url_encode(input);
    check(sse::base64url_decode(text) == input, "encoded bytes decode back");
}

// The input as a whole token: any verdict will do, as long as it is one.
void fuzz_raw_token(std::string_view input) {
    sse::TokenCheck check_result = sse::verify_token(input, kKeys, kNow, kLeeway, "sse");
    check(input.size() <= sse::kMaxTokenBytes || check_result.error == sse::TokenError::TooLarge,
          "a token over kMaxTokenBytes is refused as too large");
    check(!sse::token_error_reason(check_result.error).empty(), "every error has a reason");
}

// The input signed with the key: before its first 0xFF byte the header,
// after it the payload; without a 0xFF, a fixed good header and the input
// as the payload.
void fuzz_signed_token(std::string_view input) {
    std::size_t cut = input.find('\xFF');
    bool fixed_header = cut == std::string_view::npos;
    std::string_view header = fixed_header ? std::string_view(kFixedHeader) : input.substr(0, cut);
    std::string_view payload = fixed_header ? input : input.substr(cut + 1);
    std::string token = sse::sign_token_hs256(header, payload, kKey);
    if (token.size() > sse::kMaxTokenBytes) return;

    sse::TokenCheck any_audience = sse::verify_token(token, kKeys, kNow, kLeeway, "");
    sse::TokenCheck sse_audience = sse::verify_token(token, kKeys, kNow, kLeeway, "sse");
    check(any_audience.error != sse::TokenError::BadSignature, "a token signed with the key verifies");
    check(any_audience.error != sse::TokenError::WrongAudience, "no audience, no audience check");
    check(sse_audience.error != sse::TokenError::None || any_audience.error == sse::TokenError::None,
          "an audience check only refuses more");
    if (fixed_header) {
        std::optional<sse::JsonValue> parsed = sse::parse_json(payload);
        bool is_object = parsed && parsed->type == sse::JsonType::Object;
        check((any_audience.error == sse::TokenError::Malformed) == !is_object,
              "behind a good header and signature, Malformed means the payload is not a JSON object");
    }
    const sse::TokenClaims& claims = any_audience.claims;
    check(claims.grant.has_subscribe || claims.grant.subscribe.empty(), "no subscribe list, no patterns");
    check(claims.grant.has_publish || claims.grant.publish.empty(), "no publish list, no patterns");
    if (any_audience.error != sse::TokenError::None) check(!claims.sub && !claims.exp, "a refused token has no claims");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    fuzz_raw_token(input);
    fuzz_signed_token(input);
    fuzz_json(input);
    fuzz_base64url(input);
    return 0;
}
