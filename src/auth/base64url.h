// base64url without padding (RFC 4648, section 5), the encoding of every
// part of a compact JWS (RFC 7515, section 2).
//
// Decoding is strict: each byte string has exactly one accepted text, so
// two different tokens can never carry the same header, payload or
// signature.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sse {

// Encodes bytes with the alphabet A-Z a-z 0-9 - _ and no '=' padding:
// 4 characters per 3 bytes, 2 or 3 for a last group of 1 or 2 bytes.
std::string base64url_encode(std::string_view bytes);

// Decodes text made only of the base64url alphabet. nullopt for any other
// byte ('=', '+', '/', whitespace included), for a length that is 1 more
// than a multiple of 4 (no byte string encodes to that), and for a last
// character whose unused low bits are not zero (not the canonical text).
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace sse
