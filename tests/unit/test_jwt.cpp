// Tests for src/auth/jwt: the HS256 example of RFC 7515 (Appendix A.1),
// then tokens minted here with sign_token_hs256 for each rule.
#include "auth/jwt.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "auth/base64url.h"
#include "auth/hmac.h"

namespace {

using sse::TokenError;

const std::string kKey = "0123456789abcdef0123456789abcdef";  // kMinHs256KeyBytes
const std::string kOtherKey = "fedcba9876543210fedcba9876543210";
const std::vector<std::string> kKeys = {kKey};
const char* const kHeader = R"({"alg":"HS256","typ":"JWT"})";
constexpr std::int64_t kNow = 1'700'000'000;

std::string mint(std::string_view payload, std::string_view header = kHeader, std::string_view key = kKey) {
    return sse::sign_token_hs256(header, payload, key);
}

// A token from parts already encoded (or deliberately not), signed with
// kKey over them as they are, so the signature check passes and what
// follows it is reached.
std::string sign_raw_parts(std::string_view header_part, std::string_view payload_part) {
    std::string input = std::string(header_part) + "." + std::string(payload_part);
    sse::Sha256Digest mac = sse::hmac_sha256(kKey, input);
    return input + "." + sse::base64url_encode({reinterpret_cast<const char*>(mac.data()), mac.size()});
}

TokenError verify(std::string_view token, std::int64_t now = kNow, std::int64_t leeway = 0,
                  std::string_view audience = "") {
    return sse::verify_token(token, kKeys, now, leeway, audience).error;
}

// RFC 7515, Appendix A.1: the token, its key (the JWK's "k", base64url)
// and its signing input, whose header and payload contain CRLFs.
const char* const kRfcToken =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const char* const kRfcKey = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
constexpr std::int64_t kRfcExp = 1300819380;

TEST_CASE("verify_token: RFC 7515 Appendix A.1") {
    std::optional<std::string> key = sse::base64url_decode(kRfcKey);
    REQUIRE(key);
    const std::vector<std::string> keys = {*key};
    sse::TokenCheck check = sse::verify_token(kRfcToken, keys, kRfcExp - 1, 0, "");
    CHECK(check.error == TokenError::None);
    CHECK(check.claims.exp == kRfcExp);
    CHECK(sse::verify_token(kRfcToken, keys, kRfcExp, 0, "").error == TokenError::Expired);
    CHECK(sse::verify_token(kRfcToken, keys, kRfcExp + 1, 0, "").error == TokenError::Expired);
    CHECK(sse::verify_token(kRfcToken, kKeys, kRfcExp - 1, 0, "").error == TokenError::BadSignature);
    std::string header = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
    std::string payload = "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
    CHECK(sse::sign_token_hs256(header, payload, *key) == kRfcToken);
}

TEST_CASE("verify_token: the claims of a valid token") {
    std::string token = mint(R"({"sub":"alice","exp":1700000100,"nbf":1699999900,"aud":["x","sse"],
        "iss":"ignored","sse":{"subscribe":["news","prices.*"],"publish":[]}})");
    sse::TokenCheck check = sse::verify_token(token, kKeys, kNow, 0, "sse");
    REQUIRE(check.error == TokenError::None);
    CHECK(check.claims.sub == "alice");
    CHECK(check.claims.exp == 1700000100);
    CHECK(check.claims.nbf == 1699999900);
    CHECK(check.claims.aud == std::vector<std::string>{"x", "sse"});
    CHECK(check.claims.grant.has_subscribe);
    CHECK(check.claims.grant.subscribe == std::vector<std::string>{"news", "prices.*"});
    CHECK(check.claims.grant.has_publish);
    CHECK(check.claims.grant.publish.empty());

    sse::TokenCheck bare = sse::verify_token(mint("{}"), kKeys, kNow, 0, "");
    REQUIRE(bare.error == TokenError::None);
    CHECK_FALSE(bare.claims.exp);
    CHECK_FALSE(bare.claims.sub);
    CHECK_FALSE(bare.claims.grant.has_subscribe);
    CHECK_FALSE(bare.claims.grant.has_publish);
}

TEST_CASE("verify_token: a refused token carries no claims") {
    sse::TokenCheck check = sse::verify_token(mint(R"({"sub":"alice","exp":1})"), kKeys, kNow, 0, "");
    CHECK(check.error == TokenError::Expired);
    CHECK_FALSE(check.claims.sub);
    CHECK_FALSE(check.claims.exp);
    CHECK(sse::TokenCheck{}.error != TokenError::None);
}

struct RuleCase {
    const char* name;
    std::string header;
    std::string payload;
    TokenError expected;
    std::int64_t leeway = 0;
    std::string audience = "";
};

const RuleCase kHeaderCases[] = {
    {"HS256", R"({"alg":"HS256"})", "{}", TokenError::None},
    {"typ JWT", R"({"alg":"HS256","typ":"JWT"})", "{}", TokenError::None},
    {"typ jwt", R"({"typ":"jwt","alg":"HS256"})", "{}", TokenError::None},
    {"typ application/jwt", R"({"alg":"HS256","typ":"application/JWT"})", "{}", TokenError::None},
    {"kid ignored", R"({"alg":"HS256","kid":"2026-01"})", "{}", TokenError::None},
    {"alg none", R"({"alg":"none"})", "{}", TokenError::UnsupportedAlgorithm},
    {"alg RS256", R"({"alg":"RS256"})", "{}", TokenError::UnsupportedAlgorithm},
    {"alg HS384", R"({"alg":"HS384"})", "{}", TokenError::UnsupportedAlgorithm},
    {"alg in lower case", R"({"alg":"hs256"})", "{}", TokenError::UnsupportedAlgorithm},
    {"alg missing", R"({"typ":"JWT"})", "{}", TokenError::UnsupportedAlgorithm},
    {"alg not a string", R"({"alg":["HS256"]})", "{}", TokenError::UnsupportedAlgorithm},
    {"crit", R"({"alg":"HS256","crit":["exp"],"exp":1})", "{}", TokenError::UnsupportedAlgorithm},
    {"crit empty", R"({"alg":"HS256","crit":[]})", "{}", TokenError::UnsupportedAlgorithm},
    {"typ another type", R"({"alg":"HS256","typ":"JOSE"})", "{}", TokenError::None},
    {"typ at+jwt (RFC 9068)", R"({"alg":"HS256","typ":"at+jwt"})", "{}", TokenError::None},
    {"typ not a string", R"({"alg":"HS256","typ":1})", "{}", TokenError::Malformed},
    {"header an array", R"(["alg","HS256"])", "{}", TokenError::Malformed},
    {"header two algs", R"({"alg":"HS256","alg":"none"})", "{}", TokenError::Malformed},
    {"header not JSON", "{alg:HS256}", "{}", TokenError::Malformed},
    {"header empty", "", "{}", TokenError::Malformed},
};

const RuleCase kPayloadCases[] = {
    {"payload an array", kHeader, "[]", TokenError::Malformed},
    {"payload a string", kHeader, R"("sub")", TokenError::Malformed},
    {"payload not JSON", kHeader, "{sub:1}", TokenError::Malformed},
    {"payload empty", kHeader, "", TokenError::Malformed},
    {"payload two exps", kHeader, R"({"exp":1,"exp":1900000000})", TokenError::Malformed},
    {"exp a string", kHeader, R"({"exp":"1900000000"})", TokenError::BadClaims},
    {"exp a decimal", kHeader, R"({"exp":1900000000.5})", TokenError::None},
    {"exp a decimal, rounded down", kHeader, R"({"exp":1700000000.9})", TokenError::Expired},
    {"nbf a decimal, rounded up", kHeader, R"({"nbf":1700000000.1})", TokenError::NotYetValid},
    {"nbf a decimal just passed", kHeader, R"({"nbf":1699999999.5})", TokenError::None},
    {"exp with an exponent", kHeader, R"({"exp":19e8})", TokenError::None},
    {"exp beyond int64, held at the limit", kHeader, R"({"exp":10000000000000000000})", TokenError::None},
    {"nbf beyond int64, held at the limit", kHeader, R"({"nbf":1e300})", TokenError::NotYetValid},
    {"exp null", kHeader, R"({"exp":null})", TokenError::BadClaims},
    {"nbf true", kHeader, R"({"nbf":true})", TokenError::BadClaims},
    {"sub a number", kHeader, R"({"sub":7})", TokenError::BadClaims},
    {"aud a number", kHeader, R"({"aud":7})", TokenError::BadClaims},
    {"aud an array with a number", kHeader, R"({"aud":["sse",7]})", TokenError::BadClaims},
    {"aud an empty array, unchecked", kHeader, R"({"aud":[]})", TokenError::None},
    {"sse an array", kHeader, R"({"sse":["news"]})", TokenError::BadClaims},
    {"sse.subscribe a string", kHeader, R"({"sse":{"subscribe":"news"}})", TokenError::BadClaims},
    {"sse.publish with a number", kHeader, R"({"sse":{"publish":["a",1]}})", TokenError::BadClaims},
    {"sse.publish null", kHeader, R"({"sse":{"publish":null}})", TokenError::BadClaims},
    {"sse empty", kHeader, R"({"sse":{}})", TokenError::None},
    {"sse other members ignored", kHeader, R"({"sse":{"admin":true}})", TokenError::None},
    {"other claims ignored", kHeader, R"({"iat":"any","jti":[1],"x":{"y":null}})", TokenError::None},
    {"exp at the int64 limit, with leeway", kHeader, R"({"exp":9223372036854775807})", TokenError::None, 60},
    {"nbf at the int64 limit", kHeader, R"({"nbf":-9223372036854775808})", TokenError::None, 60},
};

// kNow is 1700000000. Expired at exp + leeway, valid from nbf - leeway.
const RuleCase kTimeCases[] = {
    {"exp one second ahead", kHeader, R"({"exp":1700000001})", TokenError::None},
    {"exp now", kHeader, R"({"exp":1700000000})", TokenError::Expired},
    {"exp one second ago", kHeader, R"({"exp":1699999999})", TokenError::Expired},
    {"exp 59 s ago, leeway 60", kHeader, R"({"exp":1699999941})", TokenError::None, 60},
    {"exp 60 s ago, leeway 60", kHeader, R"({"exp":1699999940})", TokenError::Expired, 60},
    {"exp 61 s ago, leeway 60", kHeader, R"({"exp":1699999939})", TokenError::Expired, 60},
    {"negative leeway counts as 0", kHeader, R"({"exp":1700000001})", TokenError::None, -60},
    {"nbf one second ago", kHeader, R"({"nbf":1699999999})", TokenError::None},
    {"nbf now", kHeader, R"({"nbf":1700000000})", TokenError::None},
    {"nbf one second ahead", kHeader, R"({"nbf":1700000001})", TokenError::NotYetValid},
    {"nbf 59 s ahead, leeway 60", kHeader, R"({"nbf":1700000059})", TokenError::None, 60},
    {"nbf 60 s ahead, leeway 60", kHeader, R"({"nbf":1700000060})", TokenError::None, 60},
    {"nbf 61 s ahead, leeway 60", kHeader, R"({"nbf":1700000061})", TokenError::NotYetValid, 60},
    {"within exp and nbf", kHeader, R"({"nbf":1699999000,"exp":1700001000})", TokenError::None},
};

const RuleCase kAudienceCases[] = {
    {"aud string matches", kHeader, R"({"aud":"sse"})", TokenError::None, 0, "sse"},
    {"aud string differs", kHeader, R"({"aud":"other"})", TokenError::WrongAudience, 0, "sse"},
    {"aud compared with case", kHeader, R"({"aud":"SSE"})", TokenError::WrongAudience, 0, "sse"},
    {"aud array holds it", kHeader, R"({"aud":["a","sse"]})", TokenError::None, 0, "sse"},
    {"aud array lacks it", kHeader, R"({"aud":["a","b"]})", TokenError::WrongAudience, 0, "sse"},
    {"aud empty array", kHeader, R"({"aud":[]})", TokenError::WrongAudience, 0, "sse"},
    {"aud missing", kHeader, "{}", TokenError::WrongAudience, 0, "sse"},
    {"audience not required", kHeader, R"({"aud":"other"})", TokenError::None, 0, ""},
};

void check_rules(std::span<const RuleCase> cases) {
    for (const RuleCase& c : cases) {
        INFO(std::string(c.name));
        CHECK(verify(mint(c.payload, c.header), kNow, c.leeway, c.audience) == c.expected);
    }
}

TEST_CASE("verify_token: header rules") { check_rules(kHeaderCases); }
TEST_CASE("verify_token: payload and claim types") { check_rules(kPayloadCases); }
TEST_CASE("verify_token: exp and nbf at their edges") { check_rules(kTimeCases); }
TEST_CASE("verify_token: audience") { check_rules(kAudienceCases); }

TEST_CASE("verify_token: tampering") {
    const std::string token = mint(R"({"sub":"alice"})");
    const std::size_t first_dot = token.find('.');
    const std::size_t second_dot = token.rfind('.');
    SUBCASE("payload swapped") {
        std::string other = sse::base64url_encode(R"({"sub":"mallory"})");
        std::string tampered = token.substr(0, first_dot + 1) + other + token.substr(second_dot);
        CHECK(verify(tampered) == TokenError::BadSignature);
    }
    SUBCASE("header swapped") {
        std::string other = sse::base64url_encode(R"({"alg":"HS256"})");
        CHECK(verify(other + token.substr(first_dot)) == TokenError::BadSignature);
    }
    SUBCASE("one signature character changed") {
        std::string tampered = token;
        tampered[second_dot + 1] = tampered[second_dot + 1] == 'A' ? 'B' : 'A';
        CHECK(verify(tampered) == TokenError::BadSignature);
    }
    SUBCASE("signature cut to 31 bytes") {
        std::string cut = token.substr(0, second_dot + 1) + sse::base64url_encode(std::string(31, 'x'));
        CHECK(verify(cut) == TokenError::BadSignature);
    }
    SUBCASE("signature empty") {
        CHECK(verify(token.substr(0, second_dot + 1)) == TokenError::BadSignature);
    }
    SUBCASE("untouched") {
        CHECK(verify(token) == TokenError::None);
    }
}

TEST_CASE("verify_token: keys") {
    const std::string token = mint("{}", kHeader, kOtherKey);
    CHECK(sse::verify_token(token, kKeys, kNow, 0, "").error == TokenError::BadSignature);
    const std::vector<std::string> rotation = {kKey, kOtherKey};
    CHECK(sse::verify_token(token, rotation, kNow, 0, "").error == TokenError::None);
    CHECK(sse::verify_token(token, std::span<const std::string>{}, kNow, 0, "").error == TokenError::BadSignature);
    // A key shorter than kMinHs256KeyBytes is never used, even when it
    // made the signature.
    const std::string short_key(sse::kMinHs256KeyBytes - 1, 'k');
    const std::vector<std::string> short_keys = {short_key};
    CHECK(sse::verify_token(mint("{}", kHeader, short_key), short_keys, kNow, 0, "").error ==
          TokenError::BadSignature);
    const std::vector<std::string> long_keys = {short_key + "k"};
    CHECK(sse::verify_token(mint("{}", kHeader, long_keys[0]), long_keys, kNow, 0, "").error == TokenError::None);
}

struct MalformedCase {
    const char* name;
    std::string token;
    TokenError expected;
};

TEST_CASE("verify_token: malformed tokens") {
    const std::string header = sse::base64url_encode(kHeader);
    const std::string payload = sse::base64url_encode("{}");
    const MalformedCase cases[] = {
        {"empty", "", TokenError::Malformed},
        {"no dot", header, TokenError::Malformed},
        {"two parts", header + "." + payload, TokenError::Malformed},
        {"four parts", mint("{}") + ".x", TokenError::Malformed},
        {"only dots", "..", TokenError::Malformed},
        {"header with padding", sign_raw_parts(header + "=", payload), TokenError::Malformed},
        {"header in standard base64", sign_raw_parts("eyJhbGciOiJIUzI1NiJ9+", payload), TokenError::Malformed},
        {"header not canonical", sign_raw_parts(header.substr(0, header.size() - 1) + "z", payload),
         TokenError::Malformed},
        {"payload with padding", sign_raw_parts(header, "e30="), TokenError::Malformed},
        {"payload with a space", sign_raw_parts(header, "e3 0"), TokenError::Malformed},
        {"payload length 1 mod 4", sign_raw_parts(header, "e30AA"), TokenError::Malformed},
        {"payload not canonical", sign_raw_parts(header, "e31"), TokenError::Malformed},
        {"signature with padding", mint("{}") + "=", TokenError::Malformed},
        {"signature with a slash", sign_raw_parts(header, payload).substr(0, 90) + "/", TokenError::Malformed},
        {"raw signed JSON", sign_raw_parts(kHeader, "{}"), TokenError::Malformed},
    };
    for (const MalformedCase& c : cases) {
        INFO(c.name);
        CHECK(verify(c.token) == c.expected);
    }
    CHECK(verify(sign_raw_parts(header, payload)) == TokenError::None);
}

// A valid token of exactly `size` bytes, made by padding a claim and the
// header's whitespace (a base64url text never has a length of 4k + 1).
std::string token_of_size(std::size_t size) {
    for (std::size_t spaces = 0; spaces < 3; ++spaces) {
        std::string header = std::string(spaces, ' ') + kHeader;
        for (std::size_t filler = 0; filler < size; ++filler) {
            std::string token = mint(R"({"x":")" + std::string(filler, 'x') + R"("})", header);
            if (token.size() == size) return token;
            if (token.size() > size) break;
        }
    }
    return "";
}

TEST_CASE("verify_token: kMaxTokenBytes") {
    std::string at_limit = token_of_size(sse::kMaxTokenBytes);
    REQUIRE(at_limit.size() == sse::kMaxTokenBytes);
    CHECK(verify(at_limit) == TokenError::None);
    std::string over = token_of_size(sse::kMaxTokenBytes + 1);
    REQUIRE(over.size() == sse::kMaxTokenBytes + 1);
    CHECK(verify(over) == TokenError::TooLarge);
    CHECK(verify(std::string(1'000'000, '.')) == TokenError::TooLarge);
}

TEST_CASE("token_error_reason") {
    const TokenError errors[] = {
        TokenError::None,         TokenError::TooLarge,    TokenError::Malformed,
        TokenError::UnsupportedAlgorithm, TokenError::BadSignature, TokenError::BadClaims,
        TokenError::Expired,      TokenError::NotYetValid, TokenError::WrongAudience,
    };
    std::set<std::string> reasons;
    for (TokenError error : errors) {
        std::string reason = sse::token_error_reason(error);
        CHECK_FALSE(reason.empty());
        reasons.insert(reason);
    }
    CHECK(reasons.size() == std::size(errors));
    CHECK(sse::token_error_reason(TokenError::TooLarge).find(std::to_string(sse::kMaxTokenBytes)) !=
          std::string::npos);
}

}  // namespace

TEST_CASE("verify_token: the example token of docs/private-topics.md verifies as documented") {
    const std::string key = "an-example-key-of-32-bytes-or-more!";
    const std::string token =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MTkyNDk5MjAwMCwiYXVkIjoic3NlIiwic3Nl"
        "Ijp7InN1YnNjcmliZSI6WyJ1c2VyLmFsaWNlLioqIiwibmV3cyJdLCJwdWJsaXNoIjpbInVzZXIuYWxpY2UuKioiXX19."
        "pVBShrfdSkLTeONo_d5mgw2WVt6l4o_YGfIQotHfW4o";
    const std::vector<std::string> keys = {key};
    sse::TokenCheck check = sse::verify_token(token, keys, 1'800'000'000, 5, "sse");
    REQUIRE(check.error == TokenError::None);
    CHECK(check.claims.sub == std::optional<std::string>("alice"));
    CHECK(check.claims.exp == std::optional<std::int64_t>(1924992000));
    CHECK(check.claims.grant.subscribe == std::vector<std::string>{"user.alice.**", "news"});
    CHECK(check.claims.grant.publish == std::vector<std::string>{"user.alice.**"});
    CHECK(sse::verify_token(token, keys, 1'924'992'005, 5, "sse").error == TokenError::Expired);
}
