// HMAC-SHA-256 (RFC 2104, with SHA-256 as RFC 4231 specifies it): the MAC
// behind HS256 tokens, and a comparison of two MACs that takes the same
// time wherever they differ.
#pragma once

#include <string_view>

#include "auth/sha256.h"

namespace sse {

// HMAC-SHA-256 of `message` under `key`. A key longer than the 64-byte
// block is hashed first; a shorter one is padded with zeros (RFC 2104,
// section 2). Any key length is accepted; see kMinHs256KeyBytes in
// auth/jwt.h for what a token key must have.
Sha256Digest hmac_sha256(std::string_view key, std::string_view message);

// Whether a == b, reading every byte of both whatever the first
// difference, so the time taken tells nothing about where they differ.
bool constant_time_equal(const Sha256Digest& a, const Sha256Digest& b);

}  // namespace sse
