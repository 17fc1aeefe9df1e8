// Tests for src/auth/base64url: RFC 4648's test vectors in the base64url
// alphabet without padding, strict refusals, and an exhaustive check that
// every short byte string has exactly one accepted text.
#include "auth/base64url.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "guarded_bytes.h"

namespace {

using namespace std::string_literals;

struct EncodeCase {
    const char* name;
    std::string bytes;
    const char* text;
};

const EncodeCase kEncodeCases[] = {
    // RFC 4648, section 10, with the trailing '=' removed (section 5 and
    // RFC 7515, section 2, leave the padding out).
    {"empty", "", ""},
    {"f", "f", "Zg"},
    {"fo", "fo", "Zm8"},
    {"foo", "foo", "Zm9v"},
    {"foob", "foob", "Zm9vYg"},
    {"fooba", "fooba", "Zm9vYmE"},
    {"foobar", "foobar", "Zm9vYmFy"},
    // The two characters base64url changes: 62 is '-' (not '+'), 63 is '_' (not '/').
    {"62 and 63", "\xfb\xff", "-_8"},
    {"all ones", "\xff\xff\xff", "____"},
    {"zeros", "\0\0\0\0"s, "AAAAAA"},
    {"JWS header of RFC 7515 A.1", "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}",
     "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"},
};

TEST_CASE("base64url_encode and base64url_decode: the vectors") {
    sse::test::GuardedBytes guard(64);
    for (const EncodeCase& c : kEncodeCases) {
        INFO(c.name);
        CHECK(sse::base64url_encode(c.bytes) == c.text);
        CHECK(sse::base64url_decode(guard.place(c.text)) == c.bytes);
    }
}

struct RefusedCase {
    const char* name;
    std::string text;
};

const RefusedCase kRefusedCases[] = {
    {"padding", "Zg=="},
    {"one padding character", "Zm8="},
    {"padding alone", "===="},
    {"standard alphabet +", "+_8"},
    {"standard alphabet /", "-/8"},
    {"space inside", "Zm9v Yg"},
    {"leading space", " Zg"},
    {"trailing newline", "Zg\n"},
    {"CRLF line break", "Zm9v\r\nYg"},
    {"NUL", "Zm\0v"s},
    {"high byte", "Zm9\xc3"},
    {"dot", "Zm.v"},
    {"length 1", "Z"},
    {"length 5", "Zm9vY"},
    {"2 characters, lowest unused bit set", "Zh"},
    {"2 characters, highest unused bit set", "ZI"},
    {"3 characters, lowest unused bit set", "Zm9"},
    {"3 characters, highest unused bit set", "Zm-"},
};

TEST_CASE("base64url_decode: refusals") {
    sse::test::GuardedBytes guard(64);
    for (const RefusedCase& c : kRefusedCases) {
        INFO(c.name);
        CHECK(sse::base64url_decode(guard.place(c.text)) == std::nullopt);
    }
}

std::string alphabet() {
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}

TEST_CASE("base64url: every 1- and 2-byte string round-trips") {
    for (int first = 0; first < 256; ++first) {
        std::string one(1, static_cast<char>(first));
        REQUIRE(sse::base64url_decode(sse::base64url_encode(one)) == one);
        for (int second = 0; second < 256; ++second) {
            std::string two = one + static_cast<char>(second);
            REQUIRE(sse::base64url_decode(sse::base64url_encode(two)) == two);
        }
    }
}

// Of the 64^2 two-character texts exactly 256 decode (one per byte), and
// of the 64^3 three-character texts exactly 65,536: the canonical ones.
TEST_CASE("base64url_decode: only canonical texts are accepted") {
    const std::string letters = alphabet();
    int accepted2 = 0;
    int accepted3 = 0;
    for (char a : letters) {
        for (char b : letters) {
            std::string text2 = {a, b};
            if (auto bytes = sse::base64url_decode(text2)) {
                ++accepted2;
                REQUIRE(sse::base64url_encode(*bytes) == text2);
            }
            for (char c : letters) {
                std::string text3 = {a, b, c};
                if (auto bytes = sse::base64url_decode(text3)) {
                    ++accepted3;
                    REQUIRE(sse::base64url_encode(*bytes) == text3);
                }
            }
        }
    }
    CHECK(accepted2 == 256);
    CHECK(accepted3 == 65536);
}

}  // namespace
