// Verifying the tokens of private topics: compact JWS (RFC 7515) carrying
// a JWT (RFC 7519), signed with HS256 (HMAC-SHA-256, RFC 7518 section 3.2)
// and nothing else. Pure: the caller passes the keys and the time.
//
// A token grants topics through a private claim:
//
//   {"sub": "alice", "exp": 1767225600, "aud": "sse",
//    "sse": {"subscribe": ["news", "prices.*"], "publish": ["chat"]}}
//
// The patterns are strings; what they match is the caller's business.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/hmac.h"

namespace sse {

// A longer token is refused before it is decoded, so hostile input costs
// at most this much work. Headers carrying tokens are bounded anyway;
// 4 KiB holds a few hundred topic patterns.
inline constexpr std::size_t kMaxTokenBytes = 4096;

// RFC 7518, section 3.2: an HS256 key must have at least 256 bits. A
// shorter key is never used to verify (the token then fails with
// BadSignature), so a misconfiguration fails closed; the configuration
// should refuse such a key at start-up with a clear message.
inline constexpr std::size_t kMinHs256KeyBytes = 32;

// The private claim "sse". A list that is absent has has_* false; a list
// that is present but empty grants nothing, and has has_* true.
struct TokenGrant {
    std::vector<std::string> subscribe;
    std::vector<std::string> publish;
    bool has_subscribe = false;
    bool has_publish = false;
};

// The claims read from a verified token; any other claim is ignored.
struct TokenClaims {
    std::optional<std::int64_t> exp;  // seconds since the epoch (NumericDate)
    std::optional<std::int64_t> nbf;
    std::vector<std::string> aud;     // a single string becomes one entry
    std::optional<std::string> sub;
    TokenGrant grant;
};

enum class TokenError {
    None,
    TooLarge,              // over kMaxTokenBytes
    Malformed,             // not three base64url parts, or a header or payload that is not a JSON object
    UnsupportedAlgorithm,  // "alg" missing or not "HS256", or a "crit" header
    BadSignature,          // no key gives the token's signature
    BadClaims,             // a known claim of the wrong type
    Expired,               // at or after exp (with leeway)
    NotYetValid,           // before nbf (with leeway)
    WrongAudience,         // an audience is required and "aud" does not name it
};

// A short reason for an error, fit for an error message or a log line. It
// never contains anything from the token.
std::string token_error_reason(TokenError error);

// claims are filled only when error is None: a caller cannot use the
// claims of a token it has refused. A TokenCheck that verify_token did not
// fill refuses too (Malformed), so a forgotten check fails closed.
struct TokenCheck {
    TokenError error = TokenError::Malformed;
    TokenClaims claims;
};

// Verifies `token` and reads its claims. The signature must match under
// at least one of `keys` (several keys allow rotation). `now_s` is the
// current time in seconds since the epoch and `leeway_s` the clock skew
// allowed on exp and nbf (a negative leeway counts as 0). `audience`,
// when not empty, must be one of the token's "aud" values; when empty,
// "aud" is not checked.
TokenCheck verify_token(std::string_view token, std::span<const std::string> keys, std::int64_t now_s,
                        std::int64_t leeway_s, std::string_view audience);
// The same with keys made ready once (what a server holding its keys for
// every request uses; see HmacKey).
TokenCheck verify_token(std::string_view token, std::span<const HmacKey> keys, std::int64_t now_s,
                        std::int64_t leeway_s, std::string_view audience);

// A compact HS256 token: base64url(header) "." base64url(payload) "."
// base64url(HMAC-SHA-256 of the first two parts under `key`). The JSON
// texts are used as given, unchecked. For tests and demo tokens.
std::string sign_token_hs256(std::string_view header_json, std::string_view payload_json,
                             std::string_view key);

}  // namespace sse
