// The Idempotency-Key store of app/idempotency.h kept in Redis, so that a
// key holds across every instance sharing the stream (--redis). One Redis
// string per key, "<prefix><key>", holding encode_record():
//
//   claim    SET k "<fp>|inflight" NX PX kIdempotencyInflightMs
//              OK  -> Proceed: the caller XADDs, then settles or releases
//              nil -> GET k, then judge(): Replay, InFlight or Mismatch
//                     (nil again: the key was released or expired in
//                     between, so the claim is tried once more)
//   settle   SET k "<fp>|<status>|<body>" XX PX kIdempotencyWindowMs
//   release  DEL k   (the XADD failed: nothing was published, a retry may)
//
// Redis runs each command atomically, so of two claims of one key exactly
// one gets OK. Every command goes on the bridge's commands link, where the
// XADD goes too, and one link is answered in order: a repeat that reaches
// an instance after its first's claim was answered meets the stored answer
// there, never the mark. 409 is for a repeat on another instance, or one
// whose claim crossed the first's.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "app/idempotency.h"

namespace sse {

class EventLoop;
class RedisBridge;

class RedisIdempotency {
public:
    // `prefix` names the keys, e.g. "sse:events:idempotency:".
    RedisIdempotency(RedisBridge& bridge, EventLoop& loop, std::string prefix);

    // What claim() found. No outcome: Redis failed (`error` says how), and
    // nothing was claimed.
    struct Claim {
        std::optional<IdempotencyOutcome> outcome;
        StoredAnswer answer;  // the first answer, for Replay
        std::string error;
    };
    // Claims `key` for a request with `fingerprint`, or finds who holds it.
    // `done` runs once, perhaps before claim() returns (Redis down).
    void claim(const std::string& key, const Fingerprint& fingerprint, std::function<void(const Claim&)> done);
    // Stores the answer of a key claim() let proceed. A key no longer held
    // (its in-flight mark expired) is not stored again; that is logged.
    void settle(const std::string& key, const Fingerprint& fingerprint, const StoredAnswer& answer);
    // Deletes the in-flight mark of a key whose publish failed.
    void release(const std::string& key);

private:
    void find_holder(const std::string& key, const Fingerprint& fingerprint, bool retry,
                     std::function<void(const Claim&)> done);
    void claim_once(const std::string& key, const Fingerprint& fingerprint, bool retry,
                    std::function<void(const Claim&)> done);

    RedisBridge& bridge_;
    EventLoop& loop_;
    std::string prefix_;
};

}  // namespace sse
