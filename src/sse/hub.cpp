#include "sse/hub.h"

#include <algorithm>

#include "sse/event_stream.h"
#include "sse/topic_pattern.h"

namespace sse {

struct Hub::Topic {
    std::string name;
    // The subscriptions of this topic; each knows its index here, so
    // removing one is a swap with the last element.
    std::vector<Subscription*> subscriptions;
    bool ended = false;
    std::uint32_t watchers = 0;   // presence watchers (Hub::watch)
};

struct Hub::Subscription {
    StreamSink* sink = nullptr;
    bool multi = false;
    // Live events at or below this id were already seen by the client (it
    // resumed from an id the hub had not read yet); they are skipped.
    EventId seen_up_to;
    std::vector<std::string> topic_names;
    // Parallel to topic_names: the topic and our index in its vector.
    std::vector<std::pair<Topic*, std::size_t>> slots;
    std::vector<std::string> patterns;   // each also in the hub's PatternIndex
    // The last event handed to this stream: a name and a pattern (or two
    // patterns) matching one event must not deliver it twice.
    EventId last_delivered;

    // Hands over one live event, once. Returns whether it did.
    bool deliver_once(const StoredEvent& event) {
        if (event.id <= seen_up_to || event.id == last_delivered) return false;
        last_delivered = event.id;
        sink->deliver(multi ? event.named : event.plain);
        return true;
    }
};

bool is_valid_topic(std::string_view name) {
    if (name.empty() || name.size() > kMaxTopicChars) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string topic_name_rule() {
    return "1-" + std::to_string(kMaxTopicChars) + " of A-Z a-z 0-9 _ . -";
}

Hub::Hub(const HubLimits& limits, std::uint64_t first_wall_ms)
    : ids_(EventId{first_wall_ms, 0}),
      history_(limits.history_per_topic, limits.history_bytes, EventId{first_wall_ms, 0}) {}

Hub::~Hub() {
    // Subscriptions are owned here; collect each once.
    std::vector<Subscription*> all;
    for (auto& [name, topic] : topics_)
        for (Subscription* s : topic->subscriptions) all.push_back(s);
    patterns_.for_each([&](Subscription* s) { all.push_back(s); });
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    for (Subscription* s : all) delete s;
}

Hub::Topic* Hub::find(std::string_view name) const {
    auto it = topics_.find(std::string(name));
    return it == topics_.end() ? nullptr : it->second.get();
}

Hub::Topic& Hub::topic(std::string_view name) {
    auto [it, inserted] = topics_.try_emplace(std::string(name));
    if (inserted) {
        it->second = std::make_unique<Topic>();
        it->second->name = std::string(name);
    }
    return *it->second;
}

void Hub::drop_if_unused(Topic& topic) {
    // A topic nobody watches and nobody ended costs no memory; its history,
    // if any, lives in History.
    if (topic.subscriptions.empty() && !topic.ended && topic.watchers == 0) topics_.erase(topic.name);
}

void Hub::count_changed(const Topic& topic) {
    if (topic.watchers > 0 && observer_) observer_->subscribers_changed(topic.name, topic.subscriptions.size());
}

void Hub::watch(std::string_view name) {
    ++topic(name).watchers;
}

void Hub::unwatch(std::string_view name) {
    Topic* t = find(name);
    if (!t || t->watchers == 0) return;
    --t->watchers;
    drop_if_unused(*t);
}

Hub::Subscription* Hub::subscribe(StreamSink& sink, std::vector<std::string> names, bool multi,
                                  std::optional<EventId> last_event_id, std::size_t last_n) {
    auto* subscription = new Subscription{&sink, multi, EventId{}, {}, {}, {}, EventId{}};
    for (std::string& name : names) {
        if (has_wildcard(name)) subscription->patterns.push_back(std::move(name));
        else subscription->topic_names.push_back(std::move(name));
    }
    // A pattern's events come from many topics: each must say which.
    if (!subscription->patterns.empty()) subscription->multi = true;
    subscription->slots.reserve(subscription->topic_names.size());
    for (const std::string& name : subscription->topic_names) {
        Topic& t = topic(name);
        subscription->slots.emplace_back(&t, t.subscriptions.size());
        t.subscriptions.push_back(subscription);
        count_changed(t);
    }
    for (const std::string& pattern : subscription->patterns) patterns_.add(pattern, subscription);
    // A resuming client gets exactly what it missed, never the last N again.
    if (last_event_id) replay(*subscription, *last_event_id);
    else if (last_n > 0) replay_newest(*subscription, last_n);
    return subscription;
}

void Hub::unsubscribe(Subscription* subscription) {
    if (!subscription) return;
    for (auto& [topic, index] : subscription->slots) {
        std::vector<Subscription*>& list = topic->subscriptions;
        Subscription* moved = list.back();
        list[index] = moved;
        list.pop_back();
        if (moved != subscription) {
            // Tell the moved subscription its new index in this topic.
            for (auto& slot : moved->slots)
                if (slot.first == topic) slot.second = index;
        }
        count_changed(*topic);
        drop_if_unused(*topic);
    }
    for (const std::string& pattern : subscription->patterns) patterns_.remove(pattern, subscription);
    delete subscription;
}

std::vector<std::string> Hub::replay_topics(const Subscription& subscription) const {
    if (subscription.patterns.empty()) return subscription.topic_names;
    std::vector<std::string> names = subscription.topic_names;
    // Patterns are matched against every topic that holds history: this
    // runs once per resuming stream, never per event.
    for (std::string& held : history_.topic_names()) {
        bool named = std::find(names.begin(), names.end(), held) != names.end();
        bool matched = std::any_of(subscription.patterns.begin(), subscription.patterns.end(),
                                   [&](const std::string& p) { return pattern_matches(p, held); });
        if (matched && !named) names.push_back(std::move(held));
    }
    return names;
}

void Hub::replay(Subscription& subscription, EventId after) {
    const std::vector<std::string> names = replay_topics(subscription);
    if (after > last_id() && external_ids_) {
        // Another instance issued it and our reader has not caught up yet.
        subscription.seen_up_to = after;
    } else if (after > last_id()) {
        // An id from the future was never issued by this hub (or by this
        // run of it): the client's position is unknown.
        subscription.sink->deliver_replay(reset_event(names, "unknown-id"));
        ++stats_.resets;
        after = EventId{};
    }
    History::Replay missed = history_.since(names, after);
    // A topic a pattern matches may have lost its whole log: what the hub
    // forgot without a log to say whose it was counts against patterns.
    if (!subscription.patterns.empty() && history_.forgotten() > after) missed.gap = true;
    if (missed.gap && !after.is_zero()) {
        subscription.sink->deliver_replay(reset_event(names, "gap"));
        ++stats_.resets;
    }
    for (const StoredEvent* event : missed.events) {
        subscription.sink->deliver_replay(subscription.multi ? event->named : event->plain);
    }
    if (!missed.events.empty()) subscription.last_delivered = missed.events.back()->id;
    stats_.delivered += missed.events.size();
    if (!missed.events.empty()) ++stats_.replays;
}

void Hub::replay_newest(Subscription& subscription, std::size_t count) {
    // The newest `count` of each topic, so that every widget of a page is
    // filled at once, then merged in id order. No gap to report: the client
    // asked for what is there, not for what came after an id.
    std::vector<const StoredEvent*> newest;
    for (const std::string& topic : replay_topics(subscription)) {
        std::vector<const StoredEvent*> held = history_.since(std::span(&topic, 1), EventId{}).events;
        std::size_t skip = held.size() > count ? held.size() - count : 0;
        newest.insert(newest.end(), held.begin() + static_cast<std::ptrdiff_t>(skip), held.end());
    }
    std::sort(newest.begin(), newest.end(), [](const StoredEvent* a, const StoredEvent* b) { return a->id < b->id; });
    newest.erase(std::unique(newest.begin(), newest.end(),
                             [](const StoredEvent* a, const StoredEvent* b) { return a->id == b->id; }),
                 newest.end());
    for (const StoredEvent* event : newest) {
        subscription.sink->deliver_replay(subscription.multi ? event->named : event->plain);
    }
    stats_.delivered += newest.size();
    if (!newest.empty()) {
        ++stats_.replays;
        subscription.last_delivered = newest.back()->id;
    }
}

ChunkRef Hub::reset_event(std::span<const std::string> topics, std::string_view reason) const {
    std::optional<EventId> oldest = history_.oldest(topics);
    std::string data = "{\"reason\":\"" + std::string(reason) + "\",\"oldest\":";
    data += oldest ? "\"" + oldest->to_string() + "\"" : std::string("null");
    data += "}";
    return ChunkRef::make(encode_event("", "reset", data));
}

Hub::Published Hub::publish(std::string_view topic_name, std::string_view name, std::string_view data,
                            std::uint64_t wall_ms, std::optional<std::uint32_t> retry_ms,
                            std::optional<std::uint64_t> expires_ms) {
    return record(ids_.next(wall_ms), std::span(&topic_name, 1), name, data, retry_ms, expires_ms, wall_ms);
}

Hub::Published Hub::publish(std::span<const std::string> topics, std::string_view name, std::string_view data,
                            std::uint64_t wall_ms, std::optional<std::uint32_t> retry_ms,
                            std::optional<std::uint64_t> expires_ms) {
    std::vector<std::string_view> views(topics.begin(), topics.end());
    return record(ids_.next(wall_ms), views, name, data, retry_ms, expires_ms, wall_ms);
}

Hub::Published Hub::ingest(EventId id, std::span<const std::string_view> topics, std::string_view name,
                           std::string_view data, std::optional<std::uint32_t> retry_ms,
                           std::optional<std::uint64_t> expires_ms, std::uint64_t now_ms) {
    if (id <= last_ingested_) return Published{id, 0};
    last_ingested_ = id;
    return record(id, topics, name, data, retry_ms, expires_ms, now_ms);
}

// Expiry never touches live delivery: a stream open now gets the event
// whatever its ttl; only what is held for later replay expires.
Hub::Published Hub::record(EventId id, std::span<const std::string_view> topics, std::string_view name,
                           std::string_view data, std::optional<std::uint32_t> retry_ms,
                           std::optional<std::uint64_t> expires_ms, std::uint64_t now_ms) {
    history_.expire(now_ms);  // what expired makes room before the limits apply
    bool held = !expires_ms || *expires_ms > now_ms;
    std::string id_text = id.to_string();
    // One wire form for single-topic streams, shared by every topic.
    ChunkRef plain = ChunkRef::make(encode_event(id_text, name, data, retry_ms));
    Published result{id, 0};
    for (std::string_view topic_name : topics) {
        StoredEvent event;
        event.id = id;
        event.plain = plain;
        event.expires_ms = expires_ms;
        // Multi-topic streams need a name on every event; the publisher's
        // name, else the topic. When the publisher named it, both forms
        // are the same.
        event.named =
            name.empty() ? ChunkRef::make(encode_event(id_text, topic_name, data, retry_ms)) : event.plain;
        // A stream that follows several of the topics gets the event once
        // (deliver_once), named by the first of them it follows.
        if (Topic* t = find(topic_name)) {
            t->ended = false;
            for (Subscription* s : t->subscriptions) result.queued += s->deliver_once(event);
            drop_if_unused(*t);
        }
        // Only the patterns that match are visited (see PatternIndex).
        patterns_.visit(topic_name, [&](Subscription* s) { result.queued += s->deliver_once(event); });
        if (held) history_.append(topic_name, std::move(event));
    }
    stats_.delivered += result.queued;
    ++stats_.published;
    return result;
}

std::size_t Hub::end_topic(std::string_view name) {
    Topic& t = topic(name);
    if (!t.ended) {
        ended_order_.emplace_back(name);
        if (ended_order_.size() > kMaxEndedTopics) forget_oldest_ending();
    }
    t.ended = true;
    std::size_t finished = 0;
    for (Subscription* s : t.subscriptions) {
        bool all = std::all_of(s->slots.begin(), s->slots.end(),
                               [](const auto& slot) { return slot.first->ended; });
        if (all) {
            s->sink->finish();
            ++finished;
        }
    }
    return finished;
}

std::size_t Hub::pause_topic(std::string_view name, std::optional<std::uint32_t> retry_ms) {
    return pause_topics(std::span(&name, 1), retry_ms);
}

std::size_t Hub::pause_topics(std::span<const std::string_view> names, std::optional<std::uint32_t> retry_ms) {
    // Every stream that receives the topics' events, each once. A paused
    // sink leaves when its connection closes, later: no list changes while
    // it is walked.
    std::vector<Subscription*> paused;
    for (std::string_view name : names) {
        if (Topic* t = find(name)) paused.insert(paused.end(), t->subscriptions.begin(), t->subscriptions.end());
        patterns_.visit(name, [&](Subscription* s) { paused.push_back(s); });
    }
    std::sort(paused.begin(), paused.end());
    paused.erase(std::unique(paused.begin(), paused.end()), paused.end());
    for (Subscription* s : paused) s->sink->pause(retry_ms);
    return paused.size();
}

void Hub::forget_oldest_ending() {
    std::string oldest = std::move(ended_order_.front());
    ended_order_.pop_front();
    if (Topic* t = find(oldest)) {
        t->ended = false;  // a GET now streams (and waits) instead of 204
        drop_if_unused(*t);
    }
}

bool Hub::all_ended(std::span<const std::string> names) const {
    if (names.empty()) return false;
    return std::all_of(names.begin(), names.end(), [this](const std::string& n) {
        Topic* t = find(n);
        return t && t->ended;
    });
}

std::size_t Hub::subscribers(std::string_view name) const {
    Topic* t = find(name);
    return t ? t->subscriptions.size() : 0;
}

std::vector<std::string> Hub::topic_names() const {
    std::vector<std::string> names;
    for (const auto& [name, topic] : topics_) names.push_back(name);
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace sse
