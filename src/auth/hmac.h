// HMAC-SHA-256 (RFC 2104, with SHA-256 as RFC 4231 specifies it): the MAC
// behind HS256 tokens, and a comparison of two MACs that takes the same
// time wherever they differ.
#pragma once

#include <string_view>

#include "auth/sha256.h"

namespace sse {

// A key made ready once: the hash states after the key's inner and outer
// padded blocks. Every MAC under it then hashes only the message and the
// inner digest, two blocks fewer than starting from the key each time;
// that is a third of the work of checking a short token.
class HmacKey {
public:
    // A key longer than the 64-byte block is hashed first; a shorter one is
    // padded with zeros (RFC 2104, section 2). Any length is accepted; see
    // kMinHs256KeyBytes in auth/jwt.h for what a token key must have.
    explicit HmacKey(std::string_view key);
    Sha256Digest mac(std::string_view message) const;
    std::size_t key_bytes() const { return key_bytes_; }

private:
    Sha256 inner_;   // after (K ^ ipad)
    Sha256 outer_;   // after (K ^ opad)
    std::size_t key_bytes_;
};

// HMAC-SHA-256 of `message` under `key` (HmacKey(key).mac(message)).
Sha256Digest hmac_sha256(std::string_view key, std::string_view message);

// Whether a == b, reading every byte of both whatever the first
// difference, so the time taken tells nothing about where they differ.
bool constant_time_equal(const Sha256Digest& a, const Sha256Digest& b);

}  // namespace sse
