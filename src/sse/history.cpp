// Per-topic event logs with count and byte caps; the contracts are in history.h.
#include "sse/history.h"

#include <algorithm>

namespace sse {

// Both wire forms usually point at the same chunk when the publisher named
// the event; the bytes are in memory once, so they are counted once.
std::size_t StoredEvent::bytes() const {
    bool shared = named.bytes().data() == plain.bytes().data();
    return plain.size() + (shared ? 0 : named.size());
}

History::History(std::size_t max_events_per_topic, std::size_t max_bytes, EventId floor)
    : max_events_per_topic_(max_events_per_topic), max_bytes_(max_bytes), forgotten_(floor) {}

// Eviction policy, in order:
//  1. The topic's own count cap. One eviction is enough: the log held at
//     most max_events_per_topic_ before this append added one. With a cap
//     of 0 that evicts the new event itself and deletes the log.
//  2. The hub-wide byte cap, taking the oldest event of any topic. The
//     newest event is never evicted for bytes, so one event larger than the
//     whole cap is still kept (alone) until the next append: forgetting it
//     at once would turn every replay across it into a gap.
void History::append(std::string_view topic, StoredEvent event) {
    TopicLog* log = find(topic);
    if (log == nullptr) {
        auto fresh = std::make_unique<TopicLog>();
        fresh->name = std::string(topic);
        fresh->evicted_max = forgotten_;  // whatever the hub forgot, this topic may have had
        log = fresh.get();
        logs_.emplace(fresh->name, std::move(fresh));
        oldest_index_.emplace(event.id, log);
    }
    std::size_t size = event.bytes();
    if (event.expires_ms) expiry_index_.emplace(*event.expires_ms, event.id, log);
    log->events.push_back(std::move(event));
    log->bytes += size;
    total_bytes_ += size;
    ++total_events_;

    if (log->events.size() > max_events_per_topic_) evict_oldest(*log);
    while (total_bytes_ > max_bytes_ && total_events_ > 1) {
        evict_oldest(*oldest_index_.begin()->second);
    }
}

void History::evict_oldest(TopicLog& log) {
    const StoredEvent& front = log.events.front();
    if (front.expires_ms) expiry_index_.erase({*front.expires_ms, front.id, &log});
    ++evictions_;
    log.evicted_max = std::max(log.evicted_max, front.id);
    remove(log, log.events.begin());
}

// Events of one topic often share a ttl and then expire from the front of
// their log; one that expires before older ones is erased from the middle,
// and a deque moves the shorter side, so that costs at most half of
// --history moves. Never a scan: the expiry index says which events are due.
std::size_t History::expire(std::uint64_t now_ms) {
    std::size_t expired = 0;
    while (!expiry_index_.empty() && std::get<0>(*expiry_index_.begin()) <= now_ms) {
        auto [expires_ms, id, log] = *expiry_index_.begin();
        expiry_index_.erase(expiry_index_.begin());
        auto id_less = [](const StoredEvent& e, EventId wanted) { return e.id < wanted; };
        remove(*log, std::lower_bound(log->events.begin(), log->events.end(), id, id_less));
        ++expired;
    }
    expirations_ += expired;
    return expired;
}

void History::remove(TopicLog& log, Position event) {
    bool first = event == log.events.begin();
    if (first) oldest_index_.erase({event->id, &log});
    std::size_t size = event->bytes();
    log.bytes -= size;
    total_bytes_ -= size;
    --total_events_;
    log.events.erase(event);

    if (log.events.empty()) {
        drop_log(log);
        return;
    }
    if (first) oldest_index_.emplace(log.events.front().id, &log);
}

// The log goes, but what it lost must still count as a gap: fold it into
// the watermark that answers for every topic without a log. Only eviction
// raises evicted_max, so a log emptied by expiry folds in what it had
// evicted, never what expired. Its topic then answers like any topic
// without a log: with `forgotten_`, which is conservative only if another
// log was dropped meanwhile with a greater watermark.
void History::drop_log(TopicLog& log) {
    forgotten_ = std::max(forgotten_, log.evicted_max);
    logs_.erase(logs_.find(log.name));  // destroys `log`
}

// Each log is sorted by id, so the events after `after` are a suffix found by
// binary search. The suffixes are then sorted together: a client subscribes
// to a handful of topics, so a k-way merge would only add code.
History::Replay History::since(std::span<const std::string> topics, EventId after) const {
    Replay replay;
    auto id_less = [](EventId id, const StoredEvent& e) { return id < e.id; };
    for (const std::string& topic : topics) {
        if (watermark(topic) > after) replay.gap = true;
        const TopicLog* log = find(topic);
        if (log == nullptr) continue;
        auto first = std::upper_bound(log->events.begin(), log->events.end(), after, id_less);
        for (auto it = first; it != log->events.end(); ++it) replay.events.push_back(&*it);
    }
    std::sort(replay.events.begin(), replay.events.end(),
              [](const StoredEvent* a, const StoredEvent* b) { return a->id < b->id; });
    // An event published to several of these topics is held in each log:
    // the client gets it once.
    replay.events.erase(std::unique(replay.events.begin(), replay.events.end(),
                                    [](const StoredEvent* a, const StoredEvent* b) { return a->id == b->id; }),
                        replay.events.end());
    return replay;
}

std::optional<EventId> History::oldest(std::span<const std::string> topics) const {
    std::optional<EventId> oldest;
    for (const std::string& topic : topics) {
        const TopicLog* log = find(topic);
        if (log == nullptr) continue;  // a held log is never empty
        EventId first = log->events.front().id;
        if (!oldest || first < *oldest) oldest = first;
    }
    return oldest;
}

std::optional<EventId> History::newest(std::string_view topic) const {
    const TopicLog* log = find(topic);
    if (log == nullptr) return std::nullopt;
    return log->events.back().id;
}

std::size_t History::events_of(std::string_view topic) const {
    const TopicLog* log = find(topic);
    return log ? log->events.size() : 0;
}

std::size_t History::bytes_of(std::string_view topic) const {
    const TopicLog* log = find(topic);
    return log ? log->bytes : 0;
}

History::TopicLog* History::find(std::string_view topic) {
    auto it = logs_.find(topic);
    return it == logs_.end() ? nullptr : it->second.get();
}

const History::TopicLog* History::find(std::string_view topic) const {
    auto it = logs_.find(topic);
    return it == logs_.end() ? nullptr : it->second.get();
}

// A topic with a log answers for itself; one without answers with what the
// hub as a whole has forgotten (including ids from before `floor`).
EventId History::watermark(std::string_view topic) const {
    const TopicLog* log = find(topic);
    return log ? log->evicted_max : forgotten_;
}

std::vector<std::string> History::topic_names() const {
    std::vector<std::string> names;
    names.reserve(logs_.size());
    for (const auto& entry : logs_) names.push_back(entry.first);
    return names;
}

void History::set_floor(EventId floor) {
    if (total_events_ == 0 && logs_.empty()) forgotten_ = floor;
}

}  // namespace sse
