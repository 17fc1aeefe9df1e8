// Tests for src/auth/sha256: the FIPS 180-4 examples (published by NIST
// with the standard), the padding edges, and feeding a message in pieces.
#include "auth/sha256.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <string>
#include <string_view>

namespace {

std::string to_hex(const sse::Sha256Digest& digest) {
    std::string hex;
    char pair[3];
    for (std::uint8_t byte : digest) {
        std::snprintf(pair, sizeof pair, "%02x", byte);
        hex += pair;
    }
    return hex;
}

struct DigestCase {
    const char* name;
    std::string message;
    const char* digest;
};

const std::string kMillionA(1'000'000, 'a');
const std::string k896Bits =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

const DigestCase kDigestCases[] = {
    // NIST's examples for FIPS 180-4 (one block, two blocks, the long one).
    {"abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"448 bits: padding spills into a second block",
     "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"896 bits: two blocks", k896Bits, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    {"empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"one million a", kMillionA, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    // Either side of the padding edges (55/56 and 64 bytes into a block);
    // digests from an independent implementation (Python's hashlib).
    {"55 a: padding fits", std::string(55, 'a'), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
    {"63 a", std::string(63, 'a'), "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
    {"64 a: one whole block", std::string(64, 'a'), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
    {"65 a", std::string(65, 'a'), "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
    {"119 a", std::string(119, 'a'), "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
    {"120 a", std::string(120, 'a'), "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
};

TEST_CASE("sha256: known digests, in one piece") {
    for (const DigestCase& c : kDigestCases) {
        INFO(c.name);
        CHECK(to_hex(sse::sha256(c.message)) == c.digest);
    }
}

TEST_CASE("sha256: one million a in uneven pieces") {
    // Piece sizes around the block size, so pieces start and end at every
    // offset within a block.
    const std::size_t kPieces[] = {1, 63, 64, 65, 7, 128, 1000, 3};
    sse::Sha256 hash;
    std::string_view rest = kMillionA;
    for (std::size_t i = 0; !rest.empty(); ++i) {
        std::size_t size = std::min(kPieces[i % std::size(kPieces)], rest.size());
        hash.update(rest.substr(0, size));
        rest.remove_prefix(size);
    }
    CHECK(to_hex(hash.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: a message split at every position gives the same digest") {
    const std::string expected = "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1";
    for (std::size_t split = 0; split <= k896Bits.size(); ++split) {
        INFO("split at " << split);
        sse::Sha256 hash;
        hash.update(std::string_view(k896Bits).substr(0, split));
        hash.update(std::string_view(k896Bits).substr(split));
        CHECK(to_hex(hash.finish()) == expected);
    }
}

TEST_CASE("sha256: finish() starts a new message") {
    sse::Sha256 hash;
    hash.update("abc");
    CHECK(to_hex(hash.finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(to_hex(hash.finish()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    hash.update("abc");
    CHECK(to_hex(hash.finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
