// SHA-256 (FIPS 180-4, sections 5 and 6.2): the hash under HMAC-SHA-256,
// and so under the HS256 tokens of private topics.
//
// The message is hashed in 64-byte blocks as it arrives, so a caller can
// feed it in pieces of any size; the last, partial block waits in the
// object until finish() pads it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sse {

inline constexpr std::size_t kSha256BlockBytes = 64;
inline constexpr std::size_t kSha256DigestBytes = 32;
using Sha256Digest = std::array<std::uint8_t, kSha256DigestBytes>;

class Sha256 {
public:
    Sha256() { reset(); }

    // Appends bytes to the message. Any split of a message into update()
    // calls gives the same digest.
    void update(std::span<const std::uint8_t> bytes);
    void update(std::string_view bytes);

    // Pads the message, returns its digest and starts a new, empty message.
    Sha256Digest finish();

private:
    void reset();
    void compress(const std::uint8_t* block);  // one 64-byte block into state_

    std::array<std::uint32_t, 8> state_;  // H0..H7 of FIPS 180-4
    std::array<std::uint8_t, kSha256BlockBytes> block_;  // the partial block
    std::size_t block_used_ = 0;           // bytes of block_ filled
    std::uint64_t message_bytes_ = 0;      // bytes hashed so far, for the padding
};

// The digest of one whole message.
Sha256Digest sha256(std::string_view message);

}  // namespace sse
