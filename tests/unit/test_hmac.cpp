// Tests for src/auth/hmac: the HMAC-SHA-256 results of RFC 4231's test
// cases 1-7, and the constant-time comparison.
#include "auth/hmac.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>

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

// Test case 4's key: the bytes 0x01 to 0x19.
std::string counting_key() {
    std::string key;
    for (char byte = 0x01; byte <= 0x19; ++byte) key += byte;
    return key;
}

struct HmacCase {
    const char* name;
    std::string key;
    std::string data;
    const char* mac;  // hex; case 5 gives only the first 128 bits
};

const HmacCase kRfc4231Cases[] = {
    {"1: short key", std::string(20, '\x0b'), "Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    {"2: key shorter than the output", "Jefe", "what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {"3: combined length above the block", std::string(20, '\xaa'), std::string(50, '\xdd'),
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
    {"4: combined length above the block", counting_key(), std::string(50, '\xcd'),
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
    {"5: truncated to 128 bits", std::string(20, '\x0c'), "Test With Truncation",
     "a3b6167473100ee06e0c796c2955552b"},
    {"6: key longer than the block, hashed first", std::string(131, '\xaa'),
     "Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
    {"7: key and data longer than the block", std::string(131, '\xaa'),
     "This is a test using a larger than block-size key and a larger than block-size data. "
     "The key needs to be hashed before being used by the HMAC algorithm.",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
};

TEST_CASE("hmac_sha256: RFC 4231 test cases 1-7") {
    for (const HmacCase& c : kRfc4231Cases) {
        INFO(c.name);
        std::string mac = to_hex(sse::hmac_sha256(c.key, c.data));
        std::string expected = c.mac;
        CHECK(mac.substr(0, expected.size()) == expected);
    }
}

TEST_CASE("hmac_sha256: a key of exactly one block is used as it is") {
    // A 64-byte key is not hashed: had it been, it would give the MAC of
    // its own digest as a key.
    std::string key(64, 'k');
    sse::Sha256Digest digest = sse::sha256(key);
    std::string hashed_key(reinterpret_cast<const char*>(digest.data()), digest.size());
    CHECK(sse::hmac_sha256(key, "m") != sse::hmac_sha256(hashed_key, "m"));
    std::string long_key(65, 'k');
    digest = sse::sha256(long_key);
    hashed_key.assign(reinterpret_cast<const char*>(digest.data()), digest.size());
    CHECK(sse::hmac_sha256(long_key, "m") == sse::hmac_sha256(hashed_key, "m"));
}

TEST_CASE("constant_time_equal") {
    sse::Sha256Digest a = sse::sha256("abc");
    sse::Sha256Digest b = a;
    CHECK(sse::constant_time_equal(a, b));
    b.front() ^= 1;
    CHECK_FALSE(sse::constant_time_equal(a, b));
    b = a;
    b.back() ^= 0x80;
    CHECK_FALSE(sse::constant_time_equal(a, b));
}

}  // namespace

TEST_CASE("a key made ready once gives the same MAC every time, for short and long keys") {
    for (const std::string& key : {std::string("key"), std::string(64, 'k'), std::string(131, 'x')}) {
        sse::HmacKey prepared(key);
        for (const std::string& message : {std::string(""), std::string("abc"), std::string(200, 'm')}) {
            CAPTURE(key.size());
            CAPTURE(message.size());
            sse::Sha256Digest first = prepared.mac(message);
            CHECK(prepared.mac(message) == first);  // the prepared state is not consumed
            CHECK(sse::hmac_sha256(key, message) == first);
        }
    }
}
