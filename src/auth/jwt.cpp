// HS256 token verification, in the order RFC 7515 section 5.2 gives: read
// the header for the algorithm, verify the signature, and only then read
// the payload, so nothing in an unauthenticated payload is ever trusted.
#include "auth/jwt.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "auth/base64url.h"
#include "auth/hmac.h"
#include "auth/json.h"

namespace sse {

namespace {

// The three parts of a compact JWS, and what the signature covers: the
// first two parts as they appear in the token, dot included.
struct TokenParts {
    std::string_view header;
    std::string_view payload;
    std::string_view signature;
    std::string_view signing_input;
};

std::optional<TokenParts> split_token(std::string_view token) {
    std::size_t first = token.find('.');
    if (first == std::string_view::npos) return std::nullopt;
    std::size_t second = token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
        return std::nullopt;
    }
    return TokenParts{token.substr(0, first), token.substr(first + 1, second - first - 1),
                      token.substr(second + 1), token.substr(0, second)};
}

// A base64url part that must hold a JSON object.
std::optional<JsonValue> decode_json_object(std::string_view part) {
    std::optional<std::string> bytes = base64url_decode(part);
    if (!bytes) return std::nullopt;
    std::optional<JsonValue> value = parse_json(*bytes);
    if (!value || value->type != JsonType::Object) return std::nullopt;
    return value;
}

// The algorithm is read before the signature is checked (it says how to
// check it), so it is matched against the one algorithm accepted here:
// a token cannot talk its way down to "none" or to another key type.
TokenError check_header(const JsonValue& header) {
    const JsonValue* alg = header.find("alg");
    if (alg == nullptr || alg->type != JsonType::String || alg->text != "HS256") {
        return TokenError::UnsupportedAlgorithm;
    }
    // "crit" names extensions the recipient must understand or refuse the
    // token (RFC 7515 section 4.1.11); none is understood here.
    if (header.find("crit") != nullptr) return TokenError::UnsupportedAlgorithm;
    // "typ" is the application's business (RFC 7519 section 5.1): "JWT",
    // "at+jwt" (RFC 9068) and others are all fine, if it is a string.
    const JsonValue* typ = header.find("typ");
    if (typ != nullptr && typ->type != JsonType::String) return TokenError::Malformed;
    return TokenError::None;
}

// Every usable key is tried, even after one matches: the time taken then
// depends on the number of keys only. Keys shorter than kMinHs256KeyBytes
// are skipped.
TokenError check_signature(const TokenParts& parts, std::span<const HmacKey> keys) {
    std::optional<std::string> signature = base64url_decode(parts.signature);
    if (!signature) return TokenError::Malformed;
    if (signature->size() != kSha256DigestBytes) return TokenError::BadSignature;
    Sha256Digest given;
    std::memcpy(given.data(), signature->data(), given.size());
    bool matched = false;
    for (const HmacKey& key : keys) {
        if (key.key_bytes() < kMinHs256KeyBytes) continue;
        matched |= constant_time_equal(key.mac(parts.signing_input), given);
    }
    return matched ? TokenError::None : TokenError::BadSignature;
}

// A NumericDate, accepted here only as an integer number of seconds.
// A NumericDate (RFC 7519 section 2) is any JSON number of seconds, and
// libraries write fractions ("exp": time.time() + 600). A fraction is
// rounded toward the safe side: `round_up` for nbf (valid no sooner),
// down for exp (expired no later). Outside int64, it is held at the limit.
bool read_time(const JsonValue& payload, std::string_view name, bool round_up, std::optional<std::int64_t>& out) {
    const JsonValue* value = payload.find(name);
    if (value == nullptr) return true;
    if (value->type != JsonType::Number) return false;
    if ((out = value->as_int64())) return true;
    double seconds = std::strtod(value->text.c_str(), nullptr);
    if (!std::isfinite(seconds)) return false;
    seconds = round_up ? std::ceil(seconds) : std::floor(seconds);
    constexpr double kLimit = 9.2e18;  // inside int64, whatever the rounding
    out = static_cast<std::int64_t>(std::clamp(seconds, -kLimit, kLimit));
    return true;
}

bool read_string_list(const JsonValue& value, std::vector<std::string>& out) {
    if (value.type != JsonType::Array) return false;
    for (const JsonValue& item : value.items) {
        if (item.type != JsonType::String) return false;
        out.push_back(item.text);
    }
    return true;
}

// RFC 7519 section 4.1.3: one string, or an array of strings.
bool read_audience(const JsonValue& payload, std::vector<std::string>& out) {
    const JsonValue* aud = payload.find("aud");
    if (aud == nullptr) return true;
    if (aud->type != JsonType::String) return read_string_list(*aud, out);
    out.push_back(aud->text);
    return true;
}

bool read_subject(const JsonValue& payload, std::optional<std::string>& out) {
    const JsonValue* sub = payload.find("sub");
    if (sub == nullptr) return true;
    if (sub->type != JsonType::String) return false;
    out = sub->text;
    return true;
}

// "sse": {"subscribe": [...], "publish": [...]}; other members of "sse"
// are ignored, so a later version can add some.
bool read_grant(const JsonValue& payload, TokenGrant& grant) {
    const JsonValue* sse = payload.find("sse");
    if (sse == nullptr) return true;
    if (sse->type != JsonType::Object) return false;
    if (const JsonValue* list = sse->find("subscribe")) {
        grant.has_subscribe = true;
        if (!read_string_list(*list, grant.subscribe)) return false;
    }
    if (const JsonValue* list = sse->find("publish")) {
        grant.has_publish = true;
        if (!read_string_list(*list, grant.publish)) return false;
    }
    return true;
}

std::optional<TokenClaims> read_claims(const JsonValue& payload) {
    TokenClaims claims;
    if (!read_time(payload, "exp", false, claims.exp) || !read_time(payload, "nbf", true, claims.nbf) ||
        !read_audience(payload, claims.aud) || !read_subject(payload, claims.sub) ||
        !read_grant(payload, claims.grant)) {
        return std::nullopt;
    }
    return claims;
}

// a + b, held at the int64 limits instead of overflowing: a signed token
// may say "exp": 9223372036854775807.
std::int64_t add_saturating(std::int64_t a, std::int64_t b) {
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
    if (b > 0 && a > kMax - b) return kMax;
    if (b < 0 && a < kMin - b) return kMin;
    return a + b;
}

// RFC 7519 section 4.1.4: a token "MUST NOT be accepted on or after" its
// exp, so at exp + leeway exactly it has expired. Section 4.1.5: it "MUST
// NOT be accepted before" its nbf, so at nbf - leeway it is valid.
TokenError check_claims(const TokenClaims& claims, std::int64_t now_s, std::int64_t leeway_s,
                        std::string_view audience) {
    leeway_s = std::max<std::int64_t>(leeway_s, 0);
    if (claims.exp && now_s >= add_saturating(*claims.exp, leeway_s)) return TokenError::Expired;
    if (claims.nbf && add_saturating(now_s, leeway_s) < *claims.nbf) return TokenError::NotYetValid;
    if (!audience.empty() && std::find(claims.aud.begin(), claims.aud.end(), audience) == claims.aud.end()) {
        return TokenError::WrongAudience;
    }
    return TokenError::None;
}

TokenCheck refuse(TokenError error) { return TokenCheck{error, TokenClaims{}}; }

}  // namespace

std::string token_error_reason(TokenError error) {
    switch (error) {
    case TokenError::None: return "valid token";
    case TokenError::TooLarge: return "token longer than " + std::to_string(kMaxTokenBytes) + " bytes";
    case TokenError::Malformed: return "malformed token";
    case TokenError::UnsupportedAlgorithm: return "unsupported token algorithm (only HS256) or critical header";
    case TokenError::BadSignature: return "bad token signature";
    case TokenError::BadClaims: return "token claim of the wrong type";
    case TokenError::Expired: return "token expired";
    case TokenError::NotYetValid: return "token not yet valid";
    case TokenError::WrongAudience: return "token not meant for this audience";
    }
    return "unknown token error";
}

TokenCheck verify_token(std::string_view token, std::span<const std::string> keys, std::int64_t now_s,
                        std::int64_t leeway_s, std::string_view audience) {
    std::vector<HmacKey> prepared(keys.begin(), keys.end());
    return verify_token(token, std::span<const HmacKey>(prepared), now_s, leeway_s, audience);
}

TokenCheck verify_token(std::string_view token, std::span<const HmacKey> keys, std::int64_t now_s,
                        std::int64_t leeway_s, std::string_view audience) {
    if (token.size() > kMaxTokenBytes) return refuse(TokenError::TooLarge);
    std::optional<TokenParts> parts = split_token(token);
    if (!parts) return refuse(TokenError::Malformed);
    std::optional<JsonValue> header = decode_json_object(parts->header);
    if (!header) return refuse(TokenError::Malformed);
    if (TokenError error = check_header(*header); error != TokenError::None) return refuse(error);
    if (TokenError error = check_signature(*parts, keys); error != TokenError::None) return refuse(error);
    std::optional<JsonValue> payload = decode_json_object(parts->payload);
    if (!payload) return refuse(TokenError::Malformed);
    std::optional<TokenClaims> claims = read_claims(*payload);
    if (!claims) return refuse(TokenError::BadClaims);
    TokenError error = check_claims(*claims, now_s, leeway_s, audience);
    if (error != TokenError::None) return refuse(error);
    return TokenCheck{TokenError::None, std::move(*claims)};
}

std::string sign_token_hs256(std::string_view header_json, std::string_view payload_json,
                             std::string_view key) {
    std::string token = base64url_encode(header_json) + "." + base64url_encode(payload_json);
    const Sha256Digest mac = hmac_sha256(key, token);
    token += '.';
    token += base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
    return token;
}

}  // namespace sse
