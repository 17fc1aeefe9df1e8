// HMAC per RFC 2104: H((K ^ opad) || H((K ^ ipad) || message)).
#include "auth/hmac.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace sse {

namespace {

constexpr std::uint8_t kInnerPad = 0x36;
constexpr std::uint8_t kOuterPad = 0x5c;

using Block = std::array<std::uint8_t, kSha256BlockBytes>;

// The key as one block: hashed when longer than a block, then padded with
// zeros to the block size.
Block key_block(std::string_view key) {
    Block block{};
    if (key.size() > kSha256BlockBytes) {
        Sha256Digest digest = sha256(key);
        std::memcpy(block.data(), digest.data(), digest.size());
    } else if (!key.empty()) {
        std::memcpy(block.data(), key.data(), key.size());
    }
    return block;
}

Block xor_with(Block block, std::uint8_t pad) {
    for (std::uint8_t& byte : block) byte ^= pad;
    return block;
}

}  // namespace

HmacKey::HmacKey(std::string_view key) : key_bytes_(key.size()) {
    const Block block = key_block(key);
    inner_.update(xor_with(block, kInnerPad));
    outer_.update(xor_with(block, kOuterPad));
}

Sha256Digest HmacKey::mac(std::string_view message) const {
    Sha256 inner = inner_;  // a copy: the prepared states are never consumed
    inner.update(message);
    const Sha256Digest inner_digest = inner.finish();
    Sha256 outer = outer_;
    outer.update(inner_digest);
    return outer.finish();
}

Sha256Digest hmac_sha256(std::string_view key, std::string_view message) {
    return HmacKey(key).mac(message);
}

// A comparison that stops at the first differing byte would let an
// attacker who can time many requests forge a MAC a byte at a time: a
// guess whose first byte is right takes a little longer to refuse. Here
// every byte is read and the differences are OR-ed together, with no
// branch on the data, so the time is the same for every pair of inputs.
bool constant_time_equal(const Sha256Digest& a, const Sha256Digest& b) {
    std::uint8_t difference = 0;
    for (std::size_t i = 0; i < a.size(); ++i) difference |= a[i] ^ b[i];
    return difference == 0;
}

}  // namespace sse
