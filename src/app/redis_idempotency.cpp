#include "app/redis_idempotency.h"

#include "loop/event_loop.h"
#include "loop/log.h"
#include "redis/redis_bridge.h"

namespace sse {

RedisIdempotency::RedisIdempotency(RedisBridge& bridge, EventLoop& loop, std::string prefix)
    : bridge_(bridge), loop_(loop), prefix_(std::move(prefix)) {}

void RedisIdempotency::claim(const std::string& key, const Fingerprint& fingerprint,
                             std::function<void(const Claim&)> done) {
    claim_once(key, fingerprint, true, std::move(done));
}

void RedisIdempotency::claim_once(const std::string& key, const Fingerprint& fingerprint, bool retry,
                                  std::function<void(const Claim&)> done) {
    std::string name = prefix_ + key;
    std::string mark = encode_record(IdempotencyRecord{fingerprint, std::nullopt});
    std::string ttl = std::to_string(kIdempotencyInflightMs);
    bridge_.command({"SET", name, mark, "NX", "PX", ttl},
                    [this, key, fingerprint, retry, done = std::move(done)](const RespValue& reply) {
                        if (reply.is_error()) {
                            done(Claim{std::nullopt, {}, reply.text});
                        } else if (!reply.is_null()) {
                            done(Claim{IdempotencyOutcome::Proceed, {}, {}});  // +OK: ours now
                        } else {
                            find_holder(key, fingerprint, retry, done);  // nil: someone holds it
                        }
                    });
}

void RedisIdempotency::find_holder(const std::string& key, const Fingerprint& fingerprint, bool retry,
                                   std::function<void(const Claim&)> done) {
    std::string name = prefix_ + key;
    bridge_.command({"GET", name}, [this, key, fingerprint, retry, done = std::move(done)](const RespValue& reply) {
        if (reply.is_error()) {
            done(Claim{std::nullopt, {}, reply.text});
            return;
        }
        if (reply.is_null()) {
            // Released or expired since the SET: claim once more; if that
            // races too, the holder is busy: in flight, try again later.
            if (retry) claim_once(key, fingerprint, false, done);
            else done(Claim{IdempotencyOutcome::InFlight, {}, {}});
            return;
        }
        std::optional<IdempotencyRecord> held;
        if (reply.type == RespValue::Type::Bulk) held = decode_record(reply.text);
        if (!held) {
            done(Claim{std::nullopt, {}, "redis holds an unreadable record for this Idempotency-Key"});
            return;
        }
        Claim claim{judge(*held, fingerprint), {}, {}};
        if (claim.outcome == IdempotencyOutcome::Replay) claim.answer = *held->answer;
        done(claim);
    });
}

void RedisIdempotency::settle(const std::string& key, const Fingerprint& fingerprint, const StoredAnswer& answer) {
    std::string name = prefix_ + key;
    std::string record = encode_record(IdempotencyRecord{fingerprint, answer});
    std::string ttl = std::to_string(kIdempotencyWindowMs);
    bridge_.command({"SET", name, record, "XX", "PX", ttl}, [this](const RespValue& reply) {
        if (reply.is_error() || reply.is_null()) {
            Log::error("idempotency-settle",
                       "an Idempotency-Key answer was not stored in redis: " +
                           (reply.is_null() ? std::string("its in-flight mark had expired") : reply.text),
                       loop_.now());
        }
    });
}

void RedisIdempotency::release(const std::string& key) {
    std::string name = prefix_ + key;
    bridge_.command({"DEL", name}, [this](const RespValue& reply) {
        if (reply.is_error()) {
            Log::error("idempotency-release",
                       "an Idempotency-Key stays in flight until its mark expires: " + reply.text, loop_.now());
        }
    });
}

}  // namespace sse
