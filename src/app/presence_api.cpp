#include "app/presence_api.h"

#include <algorithm>
#include <random>

#include "app/pubsub_api.h"
#include "http/url.h"
#include "loop/log.h"
#include "redis/redis_bridge.h"
#include "server/connection.h"
#include "server/server.h"
#include "sse/topic_pattern.h"

namespace sse {

namespace {

// A name for this instance among those sharing Redis: random, so that two
// instances never share one, even on one machine after a restart.
std::string random_instance_name() {
    std::random_device seed;
    std::mt19937_64 rng((std::uint64_t{seed()} << 32) | seed());
    constexpr char kHex[] = "0123456789abcdef";
    std::string name(16, '0');
    std::uint64_t bits = rng();
    for (char& c : name) {
        c = kHex[bits & 0xf];
        bits >>= 4;
    }
    return name;
}

// Reads ?type= into `topics`; returns why it cannot be watched, or "".
std::string parse_watched_topics(const Request& request, std::vector<std::string>& topics) {
    std::optional<std::string> list = query_param(request.query, "type");
    if (!list) return "missing ?type=topic1,topic2";
    std::string error;
    if (!parse_topic_list(*list, topics, error)) return error;
    if (std::any_of(topics.begin(), topics.end(), [](const std::string& t) { return has_wildcard(t); })) {
        return "presence counts the streams of named topics: type= takes no patterns (" + topic_name_rule() + ")";
    }
    return {};
}

}  // namespace

PresenceApi::PresenceApi(Server& server, Hub& hub, PubSubApi& pubsub)
    : server_(server),
      loop_(server.loop()),
      hub_(hub),
      pubsub_(pubsub),
      board_(server.options().presence_interval_ms) {
    hub_.set_presence_observer(this);
}

PresenceApi::~PresenceApi() {
    hub_.set_presence_observer(nullptr);
    loop_.cancel_timer(flush_timer_);
    loop_.cancel_timer(exchange_timer_);
}

void PresenceApi::install() {
    Router& router = server_.router();
    router.add("GET", "/presence", [this](Connection& c, const Request& r, std::string_view) {
        open(c, r);
    }, nullptr, AtCapacity::Serve);
    router.add("OPTIONS", "/presence", [this](Connection& c, const Request& r, std::string_view) {
        pubsub_.preflight(c, r, "GET");
    });
}

void PresenceApi::open(Connection& connection, const Request& request) {
    std::vector<std::string> topics;
    if (std::string error = parse_watched_topics(request, topics); !error.empty()) {
        pubsub_.answer(connection, request, 400, error);
        return;
    }
    // Watching a topic's presence needs the right to read it: who is in a
    // private room is as private as what is said there.
    std::optional<std::int64_t> expires_s;
    if (!pubsub_.authorize_subscribe(connection, request, topics, expires_s)) return;
    if (!connection.start_stream(pubsub_.cors_headers(request))) return;
    std::size_t unwatched = std::count_if(topics.begin(), topics.end(),
                                          [this](const std::string& t) { return !board_.watched(t); });
    if (board_.size() + unwatched > kMaxWatchedTopics) {
        // A 200 stream that ends with a retry: the browser comes back later,
        // when watchers have left (any other status would end it for good).
        connection.send(": too many topics watched on this server (at most " +
                        std::to_string(kMaxWatchedTopics) + "), come back later\n\n");
        connection.pause(std::nullopt);
        return;
    }
    for (const std::string& topic : topics) {
        if (board_.watch(topic, hub_.subscribers(topic) + remote(topic))) hub_.watch(topic);
        watching_[topic].push_back(&connection);
        connection.send(encode_presence_event(topic, board_.count(topic)));
        ++stats_.events;
    }
    ++streams_;
    connection.set_on_close([this, &connection, topics] { close(connection, topics); });
    if (expires_s) pubsub_.end_at(connection, *expires_s);   // as a private stream does
}

void PresenceApi::close(Connection& connection, const std::vector<std::string>& topics) {
    for (const std::string& topic : topics) {
        auto it = watching_.find(topic);
        if (it != watching_.end()) {
            std::erase(it->second, &connection);
            if (it->second.empty()) watching_.erase(it);
        }
        if (board_.unwatch(topic)) {
            hub_.unwatch(topic);
            remote_.erase(topic);
        }
    }
    --streams_;
}

std::size_t PresenceApi::remote(std::string_view topic) const {
    if (remote_.empty()) return 0;   // without --redis, always
    auto it = remote_.find(std::string(topic));
    return it == remote_.end() ? 0 : it->second;
}

void PresenceApi::subscribers_changed(std::string_view topic, std::size_t subscribers) {
    board_.set(topic, subscribers + remote(topic));
    arm_flush();
}

void PresenceApi::arm_flush() {
    std::optional<Millis> due = board_.next_due();
    if (!due) return;
    // At the earliest in the next loop pass: every change of this pass
    // (a burst of subscribers) leaves as one event per topic.
    Millis at = std::max(*due, loop_.now());
    if (flush_at_ && *flush_at_ <= at) return;
    loop_.cancel_timer(flush_timer_);
    flush_at_ = at;
    flush_timer_ = loop_.add_timer(at - loop_.now(), [this] {
        flush_timer_ = TimerId{};
        flush_at_.reset();
        flush();
    });
}

void PresenceApi::flush() {
    for (const PresenceBoard::Change& change : board_.take_due(loop_.now())) {
        auto it = watching_.find(change.topic);
        if (it == watching_.end()) continue;
        ChunkRef event = ChunkRef::make(encode_presence_event(change.topic, change.subscribers));
        // A slow watcher dropped here leaves the list only when it is
        // reaped, after this loop: the list does not change under us.
        for (Connection* watcher : it->second) watcher->deliver(event);
        stats_.events += it->second.size();
    }
    arm_flush();
}

void PresenceApi::use_redis(RedisBridge& bridge) {
    bridge_ = &bridge;
    redis_ = std::make_unique<RedisPresence>(bridge, bridge.key(), random_instance_name(), board_.interval());
    exchange_timer_ = loop_.add_timer(0, [this] { exchange(); });
}

void PresenceApi::exchange() {
    // The next exchange is armed first: one per interval, whether Redis
    // answers or not (a failed one changes nothing).
    exchange_timer_ = loop_.add_timer(board_.interval(), [this] { exchange(); });
    if (!bridge_->up()) return;
    PresenceReport mine;
    mine.watched = board_.topics();
    std::vector<std::string> counted = watched_anywhere_;
    counted.insert(counted.end(), mine.watched.begin(), mine.watched.end());
    std::sort(counted.begin(), counted.end());
    counted.erase(std::unique(counted.begin(), counted.end()), counted.end());
    for (const std::string& topic : counted) {
        if (std::size_t n = hub_.subscribers(topic)) mine.counts.emplace_back(topic, n);
    }
    redis_->exchange(mine, [this](const std::vector<PresenceReport>* others) {
        if (!others) {
            ++stats_.exchange_failures;
            return;
        }
        ++stats_.exchanges;
        on_reports(*others);
    });
}

void PresenceApi::on_reports(const std::vector<PresenceReport>& others) {
    watched_anywhere_.clear();
    remote_.clear();
    for (const PresenceReport& report : others) {
        watched_anywhere_.insert(watched_anywhere_.end(), report.watched.begin(), report.watched.end());
        for (const auto& [topic, count] : report.counts) {
            if (board_.watched(topic)) remote_[topic] += count;
        }
    }
    std::sort(watched_anywhere_.begin(), watched_anywhere_.end());
    watched_anywhere_.erase(std::unique(watched_anywhere_.begin(), watched_anywhere_.end()), watched_anywhere_.end());
    for (const std::string& topic : board_.topics()) board_.set(topic, hub_.subscribers(topic) + remote(topic));
    arm_flush();
}

void PresenceApi::withdraw() {
    loop_.cancel_timer(exchange_timer_);
    exchange_timer_ = TimerId{};
    if (redis_ && bridge_->up()) redis_->withdraw();
}

}  // namespace sse
