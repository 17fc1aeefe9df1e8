// The hub's memory of past events, for Last-Event-ID replay. Pure: no
// sockets, no clock.
//
// Each topic keeps its events in id order, at most `max_events_per_topic`;
// all topics together hold at most `max_bytes` of encoded events, and past
// that the oldest event of the whole hub goes first (found through an
// ordered index of each topic's oldest id, so eviction is O(log topics)).
//
// Gap detection: every topic log remembers the greatest id it has evicted.
// A log that empties is deleted (a topic without history costs nothing),
// and its watermark is folded into one hub-wide `forgotten` watermark that
// answers for every topic not held. The watermark starts at the hub's
// `floor` (its first possible id), so ids from before a restart are gaps.
//
// Expiry: an event may carry the wall-clock time at which it expires.
// expire(now) takes such events out through an index ordered by expiry,
// so it costs nothing while none is due. An expired event is not a loss:
// it raises no watermark, so a client that missed only expired events
// resumes without a gap, and it no longer counts toward either limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "sse/event_id.h"
#include "loop/output_buffer.h"

namespace sse {

struct StoredEvent {
    EventId id;
    ChunkRef plain;   // wire form for single-topic streams
    ChunkRef named;   // wire form with "event:" for multi-topic streams; may
                      // share plain's chunk when the publisher named the event
    // Wall-clock ms from which the event is no longer held; none: it stays
    // until the limits evict it.
    std::optional<std::uint64_t> expires_ms = std::nullopt;
    std::size_t bytes() const;  // counted once when both share one chunk
};

class History {
public:
    History(std::size_t max_events_per_topic, std::size_t max_bytes, EventId floor);

    // Records an event of `topic`; its id must exceed every id recorded
    // before. Evicts as the limits require; call expire() first, so that
    // expired events do not push out live ones.
    void append(std::string_view topic, StoredEvent event);

    // Forgets every event whose expires_ms is at or before `now_ms` (wall
    // clock), without counting it as evicted (no gap). Returns how many.
    std::size_t expire(std::uint64_t now_ms);

    struct Replay {
        std::vector<const StoredEvent*> events;  // id > after, in id order
        bool gap = false;  // an event of these topics after `after` is gone
    };
    // What a client that saw everything up to `after` on `topics` missed.
    // The pointers stay valid until the next append() or expire().
    Replay since(std::span<const std::string> topics, EventId after) const;

    // The oldest id held for any of `topics`, if any is held.
    std::optional<EventId> oldest(std::span<const std::string> topics) const;
    // The newest id held for `topic`, if any.
    std::optional<EventId> newest(std::string_view topic) const;

    std::size_t events() const { return total_events_; }
    std::size_t bytes() const { return total_bytes_; }
    std::size_t events_of(std::string_view topic) const;
    std::size_t bytes_of(std::string_view topic) const;
    std::size_t topics() const { return logs_.size(); }
    // Moves the floor (the first id that can be replayed) while nothing is
    // held yet: a hub that loads its history from Redis knows better than
    // "ids from before my start" what it may have missed.
    void set_floor(EventId floor);

    // The names of the topics that hold events, sorted.
    std::vector<std::string> topic_names() const;
    // The greatest id forgotten with no log left to say which topic it
    // belonged to: a pattern stream resuming from before it may have missed
    // an event of a topic that no longer holds any.
    EventId forgotten() const { return forgotten_; }
    std::uint64_t evictions() const { return evictions_; }
    std::uint64_t expirations() const { return expirations_; }

private:
    struct TopicLog {
        std::string name;
        std::deque<StoredEvent> events;
        std::size_t bytes = 0;
        EventId evicted_max;  // greatest id this log lost (or inherited)
    };

    TopicLog* find(std::string_view topic);
    const TopicLog* find(std::string_view topic) const;
    using Position = std::deque<StoredEvent>::iterator;
    void evict_oldest(TopicLog& log);   // may delete the log
    // Takes one event out of `log`, keeping the totals and the oldest index
    // right (not the expiry index: the caller does). May delete the log.
    void remove(TopicLog& log, Position event);
    void drop_log(TopicLog& log);
    EventId watermark(std::string_view topic) const;

    std::size_t max_events_per_topic_;
    std::size_t max_bytes_;
    std::map<std::string, std::unique_ptr<TopicLog>, std::less<>> logs_;
    std::set<std::pair<EventId, TopicLog*>> oldest_index_;  // each log's first id
    // Every held event that expires, soonest first: (expires_ms, id, log).
    std::set<std::tuple<std::uint64_t, EventId, TopicLog*>> expiry_index_;
    EventId forgotten_;
    std::size_t total_events_ = 0;
    std::size_t total_bytes_ = 0;
    std::uint64_t evictions_ = 0;
    std::uint64_t expirations_ = 0;
};

}  // namespace sse
