// SHA-256 per FIPS 180-4. Section numbers below refer to that standard.
#include "auth/sha256.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace sse {

namespace {

// 4.2.2: the first 32 bits of the fractional parts of the cube roots of
// the first 64 primes.
constexpr std::array<std::uint32_t, 64> kRoundConstants = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// 5.3.3: the first 32 bits of the fractional parts of the square roots of
// the first 8 primes.
constexpr std::array<std::uint32_t, 8> kInitialState = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

// 4.1.2: the six logical functions.
std::uint32_t choose(std::uint32_t x, std::uint32_t y, std::uint32_t z) { return (x & y) ^ (~x & z); }
std::uint32_t majority(std::uint32_t x, std::uint32_t y, std::uint32_t z) {
    return (x & y) ^ (x & z) ^ (y & z);
}
std::uint32_t big_sigma0(std::uint32_t x) { return std::rotr(x, 2) ^ std::rotr(x, 13) ^ std::rotr(x, 22); }
std::uint32_t big_sigma1(std::uint32_t x) { return std::rotr(x, 6) ^ std::rotr(x, 11) ^ std::rotr(x, 25); }
std::uint32_t small_sigma0(std::uint32_t x) { return std::rotr(x, 7) ^ std::rotr(x, 18) ^ (x >> 3); }
std::uint32_t small_sigma1(std::uint32_t x) { return std::rotr(x, 17) ^ std::rotr(x, 19) ^ (x >> 10); }

// Words are big-endian (3.1), whatever the machine's order.
std::uint32_t load_big_endian(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

void store_big_endian(std::uint32_t word, std::uint8_t* p) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(word >> (24 - 8 * i));
}

// 6.2.2 step 1: the message schedule W0..W63 of one block.
std::array<std::uint32_t, 64> message_schedule(const std::uint8_t* block) {
    std::array<std::uint32_t, 64> w;
    for (std::size_t t = 0; t < 16; ++t) w[t] = load_big_endian(block + 4 * t);
    for (std::size_t t = 16; t < 64; ++t) {
        w[t] = small_sigma1(w[t - 2]) + w[t - 7] + small_sigma0(w[t - 15]) + w[t - 16];
    }
    return w;
}

}  // namespace

void Sha256::reset() {
    state_ = kInitialState;
    block_used_ = 0;
    message_bytes_ = 0;
}

// 6.2.2 steps 2-4: 64 rounds over the working variables a..h, then the
// result is added to the state. Unsigned arithmetic wraps modulo 2^32, as
// the standard's "+" does.
void Sha256::compress(const std::uint8_t* block) {
    const std::array<std::uint32_t, 64> w = message_schedule(block);
    auto [a, b, c, d, e, f, g, h] = state_;
    for (std::size_t t = 0; t < 64; ++t) {
        std::uint32_t t1 = h + big_sigma1(e) + choose(e, f, g) + kRoundConstants[t] + w[t];
        std::uint32_t t2 = big_sigma0(a) + majority(a, b, c);
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    const std::array<std::uint32_t, 8> working = {a, b, c, d, e, f, g, h};
    for (std::size_t i = 0; i < 8; ++i) state_[i] += working[i];
}

// Fills the partial block first; whole blocks of the input are then hashed
// in place, without copying; what is left waits in block_.
void Sha256::update(std::span<const std::uint8_t> bytes) {
    message_bytes_ += bytes.size();
    if (block_used_ > 0) {
        std::size_t take = std::min(bytes.size(), kSha256BlockBytes - block_used_);
        std::memcpy(block_.data() + block_used_, bytes.data(), take);
        block_used_ += take;
        bytes = bytes.subspan(take);
        if (block_used_ < kSha256BlockBytes) return;
        compress(block_.data());
        block_used_ = 0;
    }
    for (; bytes.size() >= kSha256BlockBytes; bytes = bytes.subspan(kSha256BlockBytes)) {
        compress(bytes.data());
    }
    if (!bytes.empty()) std::memcpy(block_.data(), bytes.data(), bytes.size());
    block_used_ = bytes.size();
}

void Sha256::update(std::string_view bytes) {
    update(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

// 5.1.1: a 1 bit, zeros up to 56 bytes into a block, then the message
// length in bits as a 64-bit big-endian number. When fewer than 9 bytes
// are free in the last block, the padding spills into one more block.
Sha256Digest Sha256::finish() {
    const std::uint64_t message_bits = message_bytes_ * 8;
    std::array<std::uint8_t, kSha256BlockBytes + 8> padding{};
    padding[0] = 0x80;
    std::size_t zeros_end = block_used_ < 56 ? 56 - block_used_ : 120 - block_used_;
    for (int i = 0; i < 8; ++i) {
        padding[zeros_end + i] = static_cast<std::uint8_t>(message_bits >> (56 - 8 * i));
    }
    update(std::span(padding.data(), zeros_end + 8));
    Sha256Digest digest;
    for (std::size_t i = 0; i < 8; ++i) store_big_endian(state_[i], digest.data() + 4 * i);
    reset();
    return digest;
}

Sha256Digest sha256(std::string_view message) {
    Sha256 hash;
    hash.update(message);
    return hash.finish();
}

}  // namespace sse
