// Presence across instances: each instance's counts summed through Redis.
//
// Only watched topics are counted, so an instance must learn what the
// others watch. Once per --presence-interval-ms every instance makes one
// exchange, a short Lua script run atomically by Redis:
//
//   HSET <key>:presence <instance> "<report>"     its report (below)
//   ZADD <key>:presence:alive <now+ttl> <instance>  its lease, on Redis's clock
//   every instance whose lease ran out: ZREM and HDEL (it died)
//   HGETALL <key>:presence                        everyone's reports, returned
//
// A report says which topics the instance's presence streams watch, and
// how many streams it has on each topic that anyone watches (as of its
// last exchange). From the others' reports an instance learns what is
// watched anywhere and, for the topics it watches, the others' counts.
//
// An instance that dies stops renewing its lease: its counts are dropped by
// the first exchange after the lease ends, at most kPresenceLeaseIntervals
// intervals after its last report, plus the one interval until a watching
// instance's next exchange. Leases use Redis's clock only, so the machines'
// clocks need not agree. A clean shutdown withdraws at once (withdraw()).
//
// The report format is pure and tested without Redis:
//
//   line 1: the watched topics, separated by spaces (may be empty)
//   line 2: "<topic> <count>" pairs, separated by spaces (may be empty)
//
// Topic names hold no space or newline (see is_valid_topic).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loop/timer_queue.h"

namespace sse {

class RedisBridge;

// An instance's lease lasts this many of its intervals: one lost or late
// exchange does not make it look dead.
inline constexpr Millis kPresenceLeaseIntervals = 3;

struct PresenceReport {
    std::vector<std::string> watched;
    std::vector<std::pair<std::string, std::size_t>> counts;   // only counts above 0
};

std::string encode_presence_report(const PresenceReport& report);
// Nullopt for anything malformed (an invalid name, a bad count): such a
// report is ignored, never half-trusted.
std::optional<PresenceReport> parse_presence_report(std::string_view text);

class RedisPresence {
public:
    // `key`: the stream's key (--redis-key), whose name prefixes the two
    // presence keys. `instance`: this instance's name, unique among them.
    RedisPresence(RedisBridge& bridge, std::string key, std::string instance, Millis interval_ms);

    // Writes `mine` and renews the lease; `done` gets the other live
    // instances' reports, or nullptr when Redis failed (nothing changed).
    using Done = std::function<void(const std::vector<PresenceReport>* others)>;
    void exchange(const PresenceReport& mine, Done done);
    // Removes this instance's report and lease (a clean shutdown).
    void withdraw();

    const std::string& instance() const { return instance_; }

private:
    RedisBridge& bridge_;
    std::string reports_key_;
    std::string leases_key_;
    std::string instance_;
    std::string lease_ms_;
};

}  // namespace sse
