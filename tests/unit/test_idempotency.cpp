// Tests for src/app/idempotency: reading keys, fingerprints, the record kept
// in Redis, and the bounded store of one instance (driven by `now`).
#include "app/idempotency.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using sse::decode_record;
using sse::encode_record;
using sse::Fingerprint;
using sse::FingerprintBuilder;
using sse::IdempotencyOutcome;
using sse::IdempotencyRecord;
using sse::IdempotencyStore;
using sse::kIdempotencyWindowMs;
using sse::kMaxIdempotencyKeyBytes;
using sse::StoredAnswer;

namespace {

Fingerprint fingerprint_of(const std::string& body) {
    return FingerprintBuilder().add("topic", "t").add("data", body).finish();
}

// The key parsed from a field value, or "error: <reason>".
std::string key_of(std::string_view value) {
    std::string error;
    std::optional<std::string> key = sse::parse_idempotency_key(value, error);
    return key ? *key : "error: " + error;
}

}  // namespace

TEST_CASE("Idempotency-Key: an RFC 8941 String, or leniently a bare token") {
    struct Case {
        std::string value;
        std::string key;  // "" when the value must be refused
    };
    const std::vector<Case> cases = {
        {R"("abc")", "abc"},
        {"abc", "abc"},  // the same key, unquoted
        {R"("8e03978e-40d5-43e8-bc93-6894a57f9324")", "8e03978e-40d5-43e8-bc93-6894a57f9324"},
        {"8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"},
        {R"("a b, c;d=e")", "a b, c;d=e"},  // anything printable inside quotes
        {R"("say \"hi\"")", R"(say "hi")"},
        {R"("back\\slash")", R"(back\slash)"},
        {"a!#$%&'*+-.^_`|~9", "a!#$%&'*+-.^_`|~9"},  // every tchar
        {R"("")", ""},                 // empty: names nothing
        {"", ""},
        {R"("abc)", ""},               // unterminated
        {R"("abc"x)", ""},             // something after the quote
        {R"("abc";p=1)", ""},          // parameters
        {R"("a", "b")", ""},           // a list (two fields folded)
        {R"("a\nb")", ""},             // escapes only \" and \\ (RFC 8941)
        {R"("a\)", ""},
        {"\"tab\there\"", ""},         // control bytes
        {"\"caf\xc3\xa9\"", ""},       // non-ASCII
        {"a b", ""},                   // bare: tchars only
        {"a,b", ""},
        {"a\"b", ""},
        {"(x)", ""},
    };
    for (const Case& c : cases) {
        CAPTURE(c.value);
        if (c.key.empty()) CHECK(key_of(c.value).starts_with("error: "));
        else CHECK(key_of(c.value) == c.key);
    }
}

TEST_CASE("Idempotency-Key: at most kMaxIdempotencyKeyBytes once unquoted") {
    std::string longest(kMaxIdempotencyKeyBytes, 'k');
    CHECK(key_of(longest) == longest);
    CHECK(key_of("\"" + longest + "\"") == longest);
    // Escapes count once: the unquoted key is what is held.
    std::string escaped = "\"" + std::string(kMaxIdempotencyKeyBytes - 1, 'k') + "\\\\\"";
    CHECK(key_of(escaped) == std::string(kMaxIdempotencyKeyBytes - 1, 'k') + "\\");
    CHECK(key_of(longest + "k") == "error: an Idempotency-Key is at most 255 bytes");
    CHECK(key_of("\"" + longest + "k\"") == "error: an Idempotency-Key is at most 255 bytes");
}

TEST_CASE("fingerprints: every field and its boundaries count, the order of adding too") {
    Fingerprint base = FingerprintBuilder().add("topic", "t").add("event", "").add("data", "x").finish();
    CHECK(base == FingerprintBuilder().add("topic", "t").add("event", "").add("data", "x").finish());
    CHECK(base != FingerprintBuilder().add("topic", "u").add("event", "").add("data", "x").finish());
    CHECK(base != FingerprintBuilder().add("topic", "t").add("event", "e").add("data", "x").finish());
    CHECK(base != FingerprintBuilder().add("topic", "t").add("event", "").add("data", "y").finish());
    CHECK(base != FingerprintBuilder().add("topic", "t").add("data", "x").finish());
    // Length prefixes: moving a byte from one field to the next differs.
    CHECK(FingerprintBuilder().add("a", "bc").finish() != FingerprintBuilder().add("ab", "c").finish());
    CHECK(FingerprintBuilder().add("x", "ab").add("x", "c").finish() !=
          FingerprintBuilder().add("x", "a").add("x", "bc").finish());
    CHECK(FingerprintBuilder().add("x", "a").add("y", "b").finish() !=
          FingerprintBuilder().add("y", "b").add("x", "a").finish());
}

TEST_CASE("judge: same request answered -> replay, in flight -> 409, another request -> 422") {
    IdempotencyRecord answered{fingerprint_of("a"), StoredAnswer{200, "{\"id\":\"1-0\"}\n"}};
    IdempotencyRecord in_flight{fingerprint_of("a"), std::nullopt};
    CHECK(sse::judge(answered, fingerprint_of("a")) == IdempotencyOutcome::Replay);
    CHECK(sse::judge(in_flight, fingerprint_of("a")) == IdempotencyOutcome::InFlight);
    CHECK(sse::judge(answered, fingerprint_of("b")) == IdempotencyOutcome::Mismatch);
    CHECK(sse::judge(in_flight, fingerprint_of("b")) == IdempotencyOutcome::Mismatch);
}

TEST_CASE("records: encoded for Redis and read back; anything else is refused") {
    IdempotencyRecord in_flight{fingerprint_of("a"), std::nullopt};
    IdempotencyRecord answered{fingerprint_of("a"), StoredAnswer{200, "{\"id\":\"1-0\",\"queued\":2}\n|x"}};
    std::string mark = encode_record(in_flight);
    CHECK(mark.size() == 64 + 1 + 8);
    CHECK(mark.ends_with("|inflight"));
    CHECK(encode_record(answered).substr(64) == "|200|{\"id\":\"1-0\",\"queued\":2}\n|x");
    CHECK(decode_record(mark) == in_flight);
    CHECK(decode_record(encode_record(answered)) == answered);
    std::string hex = mark.substr(0, 64);
    CHECK(decode_record(hex + "|200|") == IdempotencyRecord{fingerprint_of("a"), StoredAnswer{200, ""}});
    for (const std::string& bad : {std::string(""), hex, hex + "|", hex + "|inflight ", hex + "|20|x",
                                   hex + "|2000|x", hex + "|600|x", hex + "|099|x", hex + "|2x0|x",
                                   hex.substr(1) + "g|inflight", "G" + hex.substr(1) + "|inflight",
                                   hex + "x|inflight"}) {
        CAPTURE(bad);
        CHECK_FALSE(decode_record(bad).has_value());
    }
}

TEST_CASE("store: first proceeds, a repeat gets the first answer, another request under the key is 422") {
    IdempotencyStore store;
    StoredAnswer first;
    CHECK(store.begin("k", fingerprint_of("a"), 0, first) == IdempotencyOutcome::Proceed);
    // Not answered yet: in flight (a synchronous publish never shows it).
    CHECK(store.begin("k", fingerprint_of("a"), 1, first) == IdempotencyOutcome::InFlight);
    store.settle("k", StoredAnswer{200, "answer"});
    CHECK(store.begin("k", fingerprint_of("a"), 2, first) == IdempotencyOutcome::Replay);
    CHECK(first == StoredAnswer{200, "answer"});
    CHECK(store.begin("k", fingerprint_of("b"), 3, first) == IdempotencyOutcome::Mismatch);
    CHECK(store.begin("other", fingerprint_of("b"), 4, first) == IdempotencyOutcome::Proceed);
    CHECK(store.keys() == 2);
    CHECK(store.evictions() == 0);
}

TEST_CASE("store: a key is remembered for the window from its first request, then is new") {
    IdempotencyStore store;
    StoredAnswer first;
    REQUIRE(store.begin("k", fingerprint_of("a"), 1000, first) == IdempotencyOutcome::Proceed);
    store.settle("k", StoredAnswer{200, "first"});
    CHECK(store.begin("k", fingerprint_of("a"), 1000 + kIdempotencyWindowMs - 1, first) == IdempotencyOutcome::Replay);
    CHECK(store.begin("k", fingerprint_of("b"), 1000 + kIdempotencyWindowMs, first) == IdempotencyOutcome::Proceed);
    CHECK(store.keys() == 1);
    CHECK(store.evictions() == 0);  // expiry is not eviction
}

TEST_CASE("store: past the count the oldest key goes first") {
    IdempotencyStore store(3, 1 << 20);
    StoredAnswer first;
    for (int i = 0; i < 4; ++i) {
        std::string key = "k" + std::to_string(i);
        REQUIRE(store.begin(key, fingerprint_of(key), i, first) == IdempotencyOutcome::Proceed);
        store.settle(key, StoredAnswer{200, key});
    }
    CHECK(store.keys() == 3);
    CHECK(store.evictions() == 1);
    // k0 was forgotten: it publishes again (and k1, now the oldest, goes).
    CHECK(store.begin("k0", fingerprint_of("k0"), 10, first) == IdempotencyOutcome::Proceed);
    CHECK(store.begin("k2", fingerprint_of("k2"), 11, first) == IdempotencyOutcome::Replay);
    CHECK(store.begin("k1", fingerprint_of("k1"), 12, first) == IdempotencyOutcome::Proceed);
    CHECK(store.evictions() == 3);
}

TEST_CASE("store: bytes are bounded too: key twice, answer and overhead per key") {
    const std::size_t per_key = 2 * 2 + 10 + sse::kIdempotencyEntryOverheadBytes;
    IdempotencyStore store(100, 3 * per_key);
    StoredAnswer first;
    for (int i = 0; i < 3; ++i) {
        std::string key = "k" + std::to_string(i);
        store.begin(key, fingerprint_of(key), i, first);
        store.settle(key, StoredAnswer{200, std::string(10, 'a')});
    }
    CHECK(store.bytes() == 3 * per_key);
    CHECK(store.evictions() == 0);
    // One byte more of answer: the oldest key makes room.
    store.begin("k3", fingerprint_of("k3"), 3, first);
    store.settle("k3", StoredAnswer{200, std::string(11, 'a')});
    CHECK(store.keys() == 2);
    CHECK(store.bytes() == per_key + per_key + 1);
    CHECK(store.begin("k0", fingerprint_of("k0"), 4, first) == IdempotencyOutcome::Proceed);
}

TEST_CASE("store: a key pushed out while in flight is not remembered when it settles") {
    IdempotencyStore store(1, 1 << 20);
    StoredAnswer first;
    REQUIRE(store.begin("k", fingerprint_of("a"), 0, first) == IdempotencyOutcome::Proceed);
    CHECK(store.begin("j", fingerprint_of("a"), 1, first) == IdempotencyOutcome::Proceed);
    store.settle("k", StoredAnswer{200, "late"});
    CHECK(store.keys() == 1);
    CHECK(store.evictions() == 1);
    CHECK(store.begin("k", fingerprint_of("b"), 2, first) == IdempotencyOutcome::Proceed);
    // Everything gone, nothing is charged.
    IdempotencyStore empty(0, 1 << 20);
    CHECK(empty.begin("k", fingerprint_of("a"), 0, first) == IdempotencyOutcome::Proceed);
    empty.settle("k", StoredAnswer{200, "x"});
    CHECK(empty.keys() == 0);
    CHECK(empty.bytes() == 0);
}
