// The hub: topics, their subscribed streams, publishing and replay.
//
// Pure core: the hub never touches a socket or a clock. Streams are
// StreamSinks (a Connection in the server, a fake in tests); the wall clock
// for ids and for expiry is an argument (publish(), ingest(), expire()).
//
// Publishing encodes the event once (two wire forms at most, see
// StoredEvent) and hands the same chunk to every subscribed sink: nothing
// is formatted or allocated per subscriber.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sse/event_id.h"
#include "sse/history.h"
#include "sse/pattern_index.h"
#include "loop/output_buffer.h"

namespace sse {

// Topic names: 1 to kMaxTopicChars of A-Z a-z 0-9 _ . -
inline constexpr std::size_t kMaxTopicChars = 64;
// The most distinct topics one multi-topic stream may list.
inline constexpr std::size_t kMaxTopicsPerStream = 64;
// Ended topics remembered (to answer 204); past it the oldest ending is
// forgotten, so ending ever new names cannot grow memory without bound.
inline constexpr std::size_t kMaxEndedTopics = 10'000;
// The longest ttl an event may be published with (?ttl=SECONDS): one day,
// as for retry=. History is a replay window for clients that were briefly
// away, not a store: an event still worth replaying after a day belongs in
// the application's own database.
inline constexpr std::uint32_t kMaxEventTtlSeconds = 86'400;

bool is_valid_topic(std::string_view name);
// That rule as error messages state it: "1-64 of A-Z a-z 0-9 _ . -".
std::string topic_name_rule();

// The receiving end of a stream, implemented by Connection.
class StreamSink {
public:
    virtual ~StreamSink() = default;
    // Queues one live event on the stream.
    virtual void deliver(const ChunkRef& chunk) = 0;
    // Queues one replayed event (or a reset). A replay may be larger than
    // a slow-subscriber limit, and the client that resumes is exactly the
    // one that fell behind, so a sink must accept the whole replay.
    virtual void deliver_replay(const ChunkRef& chunk) = 0;
    // Every topic of the stream has ended: finish the stream.
    virtual void finish() = 0;
    // Ends the stream so that its client comes back and resumes: after
    // about `retry_ms` (never sooner), or after the stream's own retry
    // hint when there is none.
    virtual void pause(std::optional<std::uint32_t> retry_ms) = 0;
};

// Hears of the subscriber count of every watched topic (see Hub::watch).
class PresenceObserver {
public:
    virtual ~PresenceObserver() = default;
    // `topic`, which is watched, now has `subscribers` streams.
    virtual void subscribers_changed(std::string_view topic, std::size_t subscribers) = 0;
};

struct HubLimits {
    std::size_t history_per_topic = 1000;
    std::size_t history_bytes = 64 * 1024 * 1024;
};

struct HubStats {
    std::uint64_t published = 0;
    std::uint64_t delivered = 0;   // event chunks handed to sinks (live + replay)
    std::uint64_t replays = 0;     // subscriptions that replayed >= 1 event
    std::uint64_t resets = 0;      // "event: reset" sent
};

class Hub {
public:
    // `first_wall_ms`: the wall clock at start. Ids from before it cannot
    // be replayed (they belong to an earlier run), so they count as gaps.
    Hub(const HubLimits& limits, std::uint64_t first_wall_ms);
    ~Hub();
    Hub(const Hub&) = delete;
    Hub& operator=(const Hub&) = delete;

    struct Subscription;  // opaque handle, owned by the hub

    // Subscribes `sink` to `names` (distinct topic names and patterns, see
    // topic_pattern.h). `multi`: the stream wants named events (its wire
    // form carries "event: <name>"); a pattern stream always gets them.
    // With `last_event_id`, first delivers what the client missed on every
    // topic it follows, patterns included (or a reset event and everything
    // held, if some of it is gone). An event reaches a stream once, however
    // many of its names and patterns match it. Without `last_event_id`, a
    // `last_n` above 0 first delivers the newest `last_n` held events of
    // each of those topics, merged in id order (state on first connect,
    // ?last=N).
    Subscription* subscribe(StreamSink& sink, std::vector<std::string> names, bool multi,
                            std::optional<EventId> last_event_id, std::size_t last_n = 0);
    // Removes the subscription (when its stream closes).
    void unsubscribe(Subscription* subscription);

    struct Published {
        EventId id;
        std::size_t queued = 0;  // streams it was handed to
    };
    // Records and delivers one event. `name` may be empty; with `retry_ms`
    // the event carries a "retry:" line; with `expires_ms` (wall clock, after
    // `wall_ms`) it is held for replay only until then. The caller has
    // validated `topic` and that `data` is UTF-8. Expires what is due at
    // `wall_ms` first.
    Published publish(std::string_view topic, std::string_view name, std::string_view data,
                      std::uint64_t wall_ms, std::optional<std::uint32_t> retry_ms = std::nullopt,
                      std::optional<std::uint64_t> expires_ms = std::nullopt);
    // One event, one id, to several distinct `topics`: a stream following
    // more than one of them receives it once, and so does a replay.
    // `queued` counts distinct streams.
    Published publish(std::span<const std::string> topics, std::string_view name, std::string_view data,
                      std::uint64_t wall_ms, std::optional<std::uint32_t> retry_ms = std::nullopt,
                      std::optional<std::uint64_t> expires_ms = std::nullopt);
    // Records and delivers an event whose id was issued elsewhere (by a
    // Redis Stream). Ids at or below last_id() are ignored (already seen),
    // so reading the same entry twice delivers it once. An event whose
    // `expires_ms` is not after `now_ms` (read late, or loaded at start) is
    // delivered to the streams open now but not held.
    Published ingest(EventId id, std::span<const std::string_view> topics, std::string_view name,
                     std::string_view data, std::optional<std::uint32_t> retry_ms,
                     std::optional<std::uint64_t> expires_ms, std::uint64_t now_ms);
    // Forgets the held events whose expiry is at or before `now_ms` (wall
    // clock): they are replayed to no one after, count toward no limit,
    // and their absence is no gap. publish() and ingest() do this
    // themselves; call it before subscribe() and before reading history().
    // Returns how many events it forgot.
    std::size_t expire(std::uint64_t now_ms) { return history_.expire(now_ms); }

    // With external ids (Redis), a Last-Event-ID above last_id() may simply
    // not have been read from the stream yet: it is then honoured (events up
    // to it are skipped for that stream) instead of answered with a reset.
    void set_external_ids(bool external) { external_ids_ = external; }
    // Sets the replay floor while the history is empty (see History).
    void set_floor(EventId floor) { history_.set_floor(floor); }

    // Ends `topic`: streams whose topics have all ended are finished, and
    // is_ended() holds until the topic is published to again. Returns the
    // number of streams finished.
    std::size_t end_topic(std::string_view topic);
    // Pauses `topic`: every stream that receives its events (by name, among
    // other names, or by a pattern) is paused (StreamSink::pause), but the topic is not ended, so
    // the clients that come back stream again and resume with their
    // Last-Event-ID. Returns the number of streams paused.
    std::size_t pause_topic(std::string_view topic, std::optional<std::uint32_t> retry_ms);
    // The same for several topics at once, each stream paused once.
    std::size_t pause_topics(std::span<const std::string_view> topics, std::optional<std::uint32_t> retry_ms);
    // True when every one of `topics` has been ended (and not revived).
    bool all_ended(std::span<const std::string> topics) const;

    // Presence: while a topic is watched (more watch() than unwatch() calls)
    // the observer hears of each change of its subscriber count. A topic
    // nobody watches costs one test per subscribe, and nothing else.
    void watch(std::string_view topic);
    void unwatch(std::string_view topic);
    void set_presence_observer(PresenceObserver* observer) { observer_ = observer; }

    // Streams subscribed to `topic` by its name (pattern streams are not
    // counted: they follow no topic in particular).
    std::size_t subscribers(std::string_view topic) const;
    std::size_t pattern_subscriptions() const { return patterns_.size(); }
    std::size_t topic_count() const { return topics_.size(); }
    const History& history() const { return history_; }
    const HubStats& stats() const { return stats_; }
    EventId last_id() const { return external_ids_ ? last_ingested_ : ids_.last(); }

    // The names of topics that have subscribers, are ended or are watched.
    std::vector<std::string> topic_names() const;

private:
    struct Topic;
    Topic& topic(std::string_view name);   // finds or creates
    Topic* find(std::string_view name) const;
    void drop_if_unused(Topic& topic);
    void count_changed(const Topic& topic);
    void forget_oldest_ending();
    void replay(Subscription& subscription, EventId after);
    void replay_newest(Subscription& subscription, std::size_t count);
    // The topics a subscription follows that hold history: its names, and
    // every topic with history that one of its patterns matches.
    std::vector<std::string> replay_topics(const Subscription& subscription) const;
    ChunkRef reset_event(std::span<const std::string> topics, std::string_view reason) const;
    Published record(EventId id, std::span<const std::string_view> topics, std::string_view name,
                     std::string_view data, std::optional<std::uint32_t> retry_ms,
                     std::optional<std::uint64_t> expires_ms, std::uint64_t now_ms);

    IdGenerator ids_;
    History history_;
    std::unordered_map<std::string, std::unique_ptr<Topic>> topics_;
    PatternIndex<Subscription*> patterns_;   // the pattern subscriptions
    HubStats stats_;
    std::deque<std::string> ended_order_;  // names in the order they ended
    bool external_ids_ = false;
    EventId last_ingested_;
    PresenceObserver* observer_ = nullptr;
};

}  // namespace sse
