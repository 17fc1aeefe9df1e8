// Presence: how many streams follow a topic, told to those who watch it.
//
//   GET /presence?type=room.1,room.2
//     event: presence
//     data: {"topic":"room.1","subscribers":3}
//
// The board below holds the count of every watched topic and decides when
// a change goes out: at once if the topic's last event left at least one
// interval ago, else when the interval is up, with the count of that
// moment. So a topic sends at most one event per interval however fast
// its streams come and go, and a change is never more than one interval
// late. Counts that come back to the value last sent send nothing.
//
// Only watched topics are on the board: the hub tells it of a count change
// only for a topic somebody watches (Hub::watch), so subscribers coming and
// going on unwatched topics cost presence nothing.
//
// Pure: no clock (`now` is an argument), no sockets.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "loop/timer_queue.h"

namespace sse {

// Distinct topics one instance may watch at once. Each is reported to
// Redis once per interval, so this bounds that report too.
inline constexpr std::size_t kMaxWatchedTopics = 10'000;

// "event: presence" with {"topic":"<topic>","subscribers":<n>}, no id:
// presence is state, not history, and must not move a Last-Event-ID.
std::string encode_presence_event(std::string_view topic, std::size_t subscribers);

class PresenceBoard {
public:
    explicit PresenceBoard(Millis interval_ms) : interval_ms_(interval_ms) {}

    // One more watcher of `topic`. The first one puts it on the board with
    // `count`, taken as already told (that watcher is told it directly).
    // Returns true when the topic was not watched before.
    bool watch(std::string_view topic, std::size_t count);
    // One watcher fewer; the last one takes the topic off the board.
    // Returns true when the topic is no longer watched.
    bool unwatch(std::string_view topic);
    bool watched(std::string_view topic) const { return entries_.find(topic) != entries_.end(); }

    // The count of `topic` is now `count` (nothing for a topic not watched).
    // When it goes out is decided by take_due(), so no time is needed here.
    void set(std::string_view topic, std::size_t count);
    // The latest count of a watched topic: what a new watcher is told.
    std::size_t count(std::string_view topic) const;

    struct Change {
        std::string topic;
        std::size_t subscribers = 0;
    };
    // The changes due at `now`, each topic's at most once per interval;
    // they count as told at `now`.
    std::vector<Change> take_due(Millis now);
    // When take_due() next has something; nullopt when nothing waits.
    std::optional<Millis> next_due() const;

    std::vector<std::string> topics() const;   // the watched topics, sorted
    std::size_t size() const { return entries_.size(); }
    Millis interval() const { return interval_ms_; }

private:
    struct Entry {
        std::size_t watchers = 0;
        std::size_t count = 0;        // the latest
        std::size_t told = 0;         // what the last event said
        std::optional<Millis> told_at;  // when it left; none: never throttled
        bool waiting = false;         // in waiting_
    };
    struct NameHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    Millis due_at(const Entry& entry) const { return entry.told_at ? *entry.told_at + interval_ms_ : 0; }

    Millis interval_ms_;
    std::unordered_map<std::string, Entry, NameHash, std::equal_to<>> entries_;
    std::vector<std::string> waiting_;   // topics whose count differs from what was told
};

}  // namespace sse
