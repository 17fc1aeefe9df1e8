// Exactly-once publishing: the Idempotency-Key request header (IETF
// httpapi draft "The Idempotency-Key HTTP Header Field") on POST /publish.
//
// A publisher that did not hear its answer (a dropped connection, a
// timeout) sends the same request again, with the same key. The server
// remembers each key with a fingerprint of its request and the first
// answer, so a repeat is answered without publishing anything:
//
//   key new, expired or forgotten     -> publish, and remember the answer
//   same key, same request            -> the first answer again (same id)
//   same key, first still in flight   -> 409 (with --redis: the first waits
//                                        for Redis, here or on another instance)
//   same key, different request       -> 422
//
// Everything here is pure: reading a key, fingerprints, the record kept in
// Redis and the bounded store of one instance. Callers pass `now`. The
// wiring is in app/pubsub_idempotency.cpp and app/redis_idempotency.*.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/sha256.h"
#include "loop/timer_queue.h"

namespace sse {

// The longest key, in bytes once unquoted: a UUID is 36. Longer is 400:
// keys are held in memory (and in Redis) for the whole window.
inline constexpr std::size_t kMaxIdempotencyKeyBytes = 255;
// How long a key is remembered, from its first request: a retry within it
// is answered from the record; after it the key is new again.
inline constexpr Millis kIdempotencyWindowMs = 10 * 60 * 1000;
// The most keys one instance remembers (without --redis); past it, or past
// kMaxIdempotencyBytes, the oldest key is forgotten first, so a repeat of
// it publishes again. Counted in sse_idempotency_evictions_total.
inline constexpr std::size_t kMaxIdempotencyKeys = 10'000;
inline constexpr std::size_t kMaxIdempotencyBytes = 4 * 1024 * 1024;
// What one remembered key costs besides its key (held twice: in the map
// and in the age order) and its answer: the fingerprint, an expiry and the
// nodes of the map and the list. An estimate, on the generous side.
inline constexpr std::size_t kIdempotencyEntryOverheadBytes = 160;
// With --redis, a key is marked in flight before its XADD. An instance that
// dies or loses its link before it can settle or release the mark leaves it
// behind; it expires after this long, and a retry then publishes (whether
// the first XADD was applied is unknowable, so that retry may duplicate).
inline constexpr Millis kIdempotencyInflightMs = 30'000;

// Reads a key from the value of the Idempotency-Key field: an RFC 8941
// String ("..." with \" and \\ as the only escapes, printable ASCII) or,
// leniently, a bare token (RFC 9110 tchars, so an unquoted UUID works).
// "abc" and abc are the same key. Returns nullopt, with a reason in
// `error`, for an empty key, a key over kMaxIdempotencyKeyBytes, or any
// other form (parameters, lists, control bytes, non-ASCII).
std::optional<std::string> parse_idempotency_key(std::string_view value, std::string& error);

// What a request asks for, hashed: two requests are "the same request"
// when their fingerprints are equal. Fields are added in a fixed order;
// each is length-prefixed, so ("ab", "c") and ("a", "bc") differ.
using Fingerprint = Sha256Digest;

class FingerprintBuilder {
public:
    // Adds one named field (e.g. "topic", "a").
    FingerprintBuilder& add(std::string_view name, std::string_view value);
    Fingerprint finish() { return hash_.finish(); }

private:
    Sha256 hash_;
};

// The answer a key's first request got, to be given again.
struct StoredAnswer {
    int status = 200;
    std::string body;  // application/json
    bool operator==(const StoredAnswer&) const = default;
};

// What is remembered of one key: the request's fingerprint, and its answer
// once given (nullopt while the first request is still in flight).
struct IdempotencyRecord {
    Fingerprint fingerprint{};
    std::optional<StoredAnswer> answer;
    bool operator==(const IdempotencyRecord&) const = default;
};

// How a request meets the record of its key.
enum class IdempotencyOutcome {
    Proceed,    // no record: publish, then remember the answer
    Replay,     // same request, answered: give that answer again
    InFlight,   // same request, not answered yet: 409
    Mismatch,   // another request under this key: 422
};

// The outcome for a request with `fingerprint` whose key holds `held`.
IdempotencyOutcome judge(const IdempotencyRecord& held, const Fingerprint& fingerprint);

// How many repeats got each answer (for /metrics).
struct IdempotencyStats {
    std::uint64_t replayed = 0;    // the first answer again
    std::uint64_t in_flight = 0;   // 409
    std::uint64_t mismatched = 0;  // 422
};

// The record as a Redis value: "<64 hex digits>|inflight", or
// "<64 hex digits>|<status>|<body>" once answered.
std::string encode_record(const IdempotencyRecord& record);
// The reverse; nullopt for anything encode_record() would not write.
std::optional<IdempotencyRecord> decode_record(std::string_view value);

// One instance's memory of keys: key -> record, each expiring
// kIdempotencyWindowMs after its first request, bounded by count and
// bytes, oldest out first. Every key has the same window and `now` never
// goes back, so the oldest key is also the first to expire: one list in
// age order serves both.
class IdempotencyStore {
public:
    explicit IdempotencyStore(std::size_t max_keys = kMaxIdempotencyKeys,
                              std::size_t max_bytes = kMaxIdempotencyBytes,
                              Millis window_ms = kIdempotencyWindowMs);

    // Looks `key` up for a request with `fingerprint`. Proceed also marks
    // the key in flight until the caller settle()s it (publishing into the
    // hub cannot fail, so nothing here needs releasing); Replay sets
    // `answer` to the first answer.
    IdempotencyOutcome begin(const std::string& key, const Fingerprint& fingerprint, Millis now,
                             StoredAnswer& answer);
    // Remembers the answer of a key begin() let proceed. A key forgotten
    // meanwhile (expired, or pushed out) is not remembered again.
    void settle(const std::string& key, StoredAnswer answer);

    std::size_t keys() const { return entries_.size(); }
    std::size_t bytes() const { return bytes_; }
    // Keys forgotten to stay within the count or the bytes (not expiry).
    std::uint64_t evictions() const { return evictions_; }

private:
    struct Entry {
        IdempotencyRecord record;
        Millis expires = 0;
        std::list<std::string>::iterator age;  // its place in order_
    };
    static std::size_t cost(const std::string& key, const Entry& entry);
    void forget_expired(Millis now);
    void make_room();
    void erase(std::unordered_map<std::string, Entry>::iterator it);

    std::size_t max_keys_;
    std::size_t max_bytes_;
    Millis window_ms_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> order_;  // keys, oldest first
    std::size_t bytes_ = 0;
    std::uint64_t evictions_ = 0;
};

}  // namespace sse
