// Event ids and their generator; the contracts are in event_id.h.
#include "sse/event_id.h"

#include <charconv>
#include <limits>

namespace sse {
namespace {

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

// 2^64 - 1 has 20 decimal digits; a longer part cannot fit even if it has
// leading zeros, and refusing it early bounds the loop below.
constexpr std::size_t kMaxDigits = 20;

// One part of an id: 1..kMaxDigits ASCII digits whose value fits in 64 bits.
// Leading zeros are accepted ("007" is 7): they are harmless, and refusing
// them would only turn a client's odd but unambiguous id into a full replay.
std::optional<std::uint64_t> parse_part(std::string_view digits) {
    if (digits.empty() || digits.size() > kMaxDigits) return std::nullopt;
    std::uint64_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        auto digit = static_cast<std::uint64_t>(c - '0');
        if (value > (kMaxU64 - digit) / 10) return std::nullopt;  // would overflow
        value = value * 10 + digit;
    }
    return value;
}

}  // namespace

std::string EventId::to_string() const {
    char text[2 * kMaxDigits + 1];  // "<ms>-<seq>", each part at most 20 digits
    char* end = std::to_chars(text, text + kMaxDigits, ms).ptr;
    *end++ = '-';
    end = std::to_chars(end, end + kMaxDigits, seq).ptr;
    return std::string(text, end);
}

// Splitting at the first '-' is enough: a second '-' lands in the sequence
// part, which then fails the digits check.
std::optional<EventId> parse_event_id(std::string_view text) {
    if (text.size() > kMaxEventIdChars) return std::nullopt;
    std::size_t dash = text.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    std::optional<std::uint64_t> ms = parse_part(text.substr(0, dash));
    std::optional<std::uint64_t> seq = parse_part(text.substr(dash + 1));
    if (!ms || !seq) return std::nullopt;
    return EventId{*ms, *seq};
}

// When the sequence is exhausted within one millisecond, borrowing the next
// millisecond keeps ids increasing; the clock catches up with it later. The
// millisecond part itself cannot run out: 2^64 ms is some 580 million years.
EventId IdGenerator::next(std::uint64_t wall_ms) {
    if (wall_ms > last_.ms) {
        last_ = EventId{wall_ms, 0};
    } else if (last_.seq == kMaxU64) {
        last_ = EventId{last_.ms + 1, 0};
    } else {
        last_ = EventId{last_.ms, last_.seq + 1};
    }
    return last_;
}

}  // namespace sse
