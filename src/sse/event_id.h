// Event ids: "<milliseconds>-<sequence>", the same shape as Redis Stream
// ids, so a later hub on Redis Streams can use its ids unchanged.
//
// One IdGenerator issues the ids of every topic of a hub, strictly
// increasing. The millisecond part follows the wall clock (passed in, so
// tests control it) but never goes backwards: if the clock steps back, the
// last millisecond is kept and the sequence grows. A restarted server
// starts from the wall clock again, so its ids stay above the old ones as
// long as the clock has not been set back across the restart.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sse {

struct EventId {
    std::uint64_t ms = 0;
    std::uint64_t seq = 0;

    auto operator<=>(const EventId&) const = default;
    bool is_zero() const { return ms == 0 && seq == 0; }
    // "1700000000000-0"; at most 41 characters in theory, 15-20 in practice.
    std::string to_string() const;
};

// The longest Last-Event-ID text we try to parse; longer ones are malformed.
inline constexpr std::size_t kMaxEventIdChars = 32;

// Parses "<ms>-<seq>" (both plain decimal, no sign, no spaces, each fitting
// in 64 bits, at most kMaxEventIdChars in all). nullopt when malformed.
std::optional<EventId> parse_event_id(std::string_view text);

class IdGenerator {
public:
    // Ids issued will all be greater than `floor` (e.g. the last id known
    // from a previous run or from Redis).
    explicit IdGenerator(EventId floor = {}) : last_(floor) {}

    // The next id, given the wall clock in milliseconds since the epoch.
    EventId next(std::uint64_t wall_ms);

    EventId last() const { return last_; }

private:
    EventId last_;
};

}  // namespace sse
