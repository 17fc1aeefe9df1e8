// base64url per RFC 4648, section 5: each 6 bits of input is one character.
#include "auth/base64url.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace sse {

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::int8_t kNotInAlphabet = -1;

// The 6-bit value of each byte, or kNotInAlphabet; built from kAlphabet so
// the two cannot disagree.
constexpr std::array<std::int8_t, 256> make_decode_table() {
    std::array<std::int8_t, 256> table{};
    table.fill(kNotInAlphabet);
    for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
        table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
    }
    return table;
}

constexpr std::array<std::int8_t, 256> kDecodeTable = make_decode_table();

}  // namespace

// Takes the input 3 bytes (24 bits) at a time, or fewer at the end, and
// writes one character per 6 bits, the last group padded with zero bits.
std::string base64url_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
        std::size_t group = std::min<std::size_t>(3, bytes.size() - i);
        std::uint32_t bits = 0;
        for (std::size_t j = 0; j < 3; ++j) {
            std::uint32_t byte = j < group ? static_cast<unsigned char>(bytes[i + j]) : 0;
            bits = bits << 8 | byte;
        }
        for (std::size_t k = 0; k <= group; ++k) out += kAlphabet[(bits >> (18 - 6 * k)) & 0x3f];
    }
    return out;
}

// Takes the text 4 characters (24 bits) at a time, or 2-3 at the end. A
// last group of 2 characters carries 12 bits for 1 byte, of 3 carries 18
// bits for 2 bytes; the 4 or 2 bits left over must be zero.
std::optional<std::string> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        std::size_t group = std::min<std::size_t>(4, text.size() - i);
        std::uint32_t bits = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            std::int8_t value = j < group ? kDecodeTable[static_cast<unsigned char>(text[i + j])] : 0;
            if (value == kNotInAlphabet) return std::nullopt;
            bits = bits << 6 | static_cast<std::uint32_t>(value);
        }
        std::size_t bytes = group - 1;  // 4 -> 3, 3 -> 2, 2 -> 1
        std::uint32_t unused_mask = (std::uint32_t{1} << (24 - 8 * bytes)) - 1;
        if ((bits & unused_mask) != 0) return std::nullopt;
        for (std::size_t k = 0; k < bytes; ++k) out += static_cast<char>(bits >> (16 - 8 * k));
    }
    return out;
}

}  // namespace sse
