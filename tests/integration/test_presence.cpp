// Presence against the real server: the counts at once on connect, every
// change over several intervals with 1, 2 and 10 watchers, bursts
// coalesced, unwatched topics silent, and bad requests. (Private topics:
// test_private.cpp; across instances: tests/redis.)
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/hub_client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

using namespace sse::test;

namespace {

constexpr long kIntervalMs = 100;

struct Count {
    std::string topic;
    long subscribers = -1;
};

Count count_of(const SseEvent& event) {
    REQUIRE(event.type == "presence");
    CHECK_FALSE(event.id);  // state, not history: no id
    return Count{json_field(event.data, "topic"), std::stol(json_field(event.data, "subscribers"))};
}

// Reads a watcher's presence events until each topic of `targets` has said
// its count (the last event of a topic counts); returns how many events
// that took. Every event must be about one of those topics.
int read_until(HubSubscriber& watcher, std::map<std::string, long> targets) {
    std::map<std::string, long> latest;
    for (int events = 1;; ++events) {
        Count c = count_of(watcher.next());
        CHECK(targets.count(c.topic) == 1);
        latest[c.topic] = c.subscribers;
        if (latest == targets) return events;
    }
}

// The most events one topic can send in `elapsed_ms` at one per interval:
// they are at least an interval apart (less 1 ms: the server's clock is
// read in whole milliseconds), plus the first.
long most_events(long elapsed_ms, long interval_ms) {
    return 1 + elapsed_ms / (interval_ms - 1);
}

using Subscribers = std::vector<std::unique_ptr<HubSubscriber>>;

void add(Subscribers& subscribers, std::uint16_t port, const std::string& target, int n) {
    for (int i = 0; i < n; ++i) subscribers.push_back(std::make_unique<HubSubscriber>(port, target));
}

}  // namespace

TEST_CASE("presence: counts at once on connect, then every change over several intervals, for 1, 2 and 10 watchers") {
    for (int watchers : {1, 2, 10}) {
        CAPTURE(watchers);
        ServerProcess server({"--no-demo", "--presence-interval-ms", std::to_string(kIntervalMs)});
        Subscribers room;
        add(room, server.port(), "/latest/room", 2);
        Subscribers patterns;
        add(patterns, server.port(), "/latest/*", 1);   // follows no topic by name: not counted
        auto started = std::chrono::steady_clock::now();
        std::vector<std::unique_ptr<HubSubscriber>> watching;
        for (int w = 0; w < watchers; ++w) {
            watching.push_back(std::make_unique<HubSubscriber>(server.port(), "/presence?type=room,hall"));
            CHECK(watching.back()->head().status == 200);
            Count first = count_of(watching.back()->next());
            Count second = count_of(watching.back()->next());
            CHECK(first.topic == "room");
            CHECK(first.subscribers == 2);
            CHECK(second.topic == "hall");
            CHECK(second.subscribers == 0);
        }
        // Churn on a topic nobody watches, meanwhile: no event says a word of it.
        Subscribers elsewhere;
        add(elsewhere, server.port(), "/latest/elsewhere", 5);
        elsewhere.clear();
        // Four steps, one or more intervals apart: every watcher sees each count.
        int events = 0;
        add(room, server.port(), "/latest/room", 1);
        for (auto& w : watching) events += read_until(*w, {{"room", 3}});
        room.resize(1);
        for (auto& w : watching) events += read_until(*w, {{"room", 1}});
        add(room, server.port(), "/latest?type=room,hall", 20);   // a burst; hall's count moves too
        for (auto& w : watching) events += read_until(*w, {{"room", 21}, {"hall", 20}});
        room.clear();
        for (auto& w : watching) events += read_until(*w, {{"room", 0}, {"hall", 0}});
        // At most one event per topic per interval, for each watcher: two
        // topics over the time this took, after the counts on connect.
        long elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - started).count();
        CHECK(events <= watchers * 2 * most_events(elapsed_ms, kIntervalMs));
        CHECK(events >= watchers * 6);
    }
}

TEST_CASE("presence: a burst of 50 subscribers in one go is a few events, the last with the whole count") {
    const long interval = 1000;
    ServerProcess server({"--no-demo", "--presence-interval-ms", std::to_string(interval)});
    HubSubscriber watcher(server.port(), "/presence?type=room");
    CHECK(count_of(watcher.next()).subscribers == 0);
    auto started = std::chrono::steady_clock::now();
    Subscribers room;
    add(room, server.port(), "/latest/room", 50);
    int events = read_until(watcher, {{"room", 50}});
    long elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started).count();
    CHECK(events <= most_events(elapsed_ms, interval));
    CHECK(events < 50);
}

TEST_CASE("presence: a presence stream is no subscriber, and a second watcher gets the count of now") {
    ServerProcess server({"--no-demo", "--presence-interval-ms", std::to_string(kIntervalMs)});
    HubSubscriber first(server.port(), "/presence?type=room");
    CHECK(count_of(first.next()).subscribers == 0);
    Subscribers room;
    add(room, server.port(), "/latest/room", 3);
    CHECK(read_until(first, {{"room", 3}}) >= 1);
    HubSubscriber second(server.port(), "/presence?type=room,room");   // a name twice counts once
    Count now = count_of(second.next());
    CHECK(now.topic == "room");
    CHECK(now.subscribers == 3);
    Response topic = fetch(server.port(), make_request("GET", "/topics/room"));
    CHECK(json_field(topic.body, "subscribers") == "3");
}

TEST_CASE("presence: bad requests are 400 and watch nothing") {
    ServerProcess server({"--no-demo"});
    std::string too_many = "t0";
    for (int i = 1; i <= 64; ++i) too_many += ",t" + std::to_string(i);
    for (const std::string& target : std::vector<std::string>{"/presence", "/presence?type=", "/presence?type=a,,b", "/presence?type=a.*",
                                     "/presence?type=user.**", "/presence?type=bad%20name",
                                     "/presence?type=" + too_many}) {
        CAPTURE(target);
        Response answer = fetch(server.port(), make_request("GET", target));
        CHECK(answer.status == 400);
        CHECK_FALSE(answer.body.empty());
    }
    Response metrics = fetch(server.port(), make_request("GET", "/metrics"));
    CHECK(metrics.body.find("sse_presence_watched_topics 0\n") != std::string::npos);
}

TEST_CASE("presence: /metrics counts watchers, watched topics and events") {
    ServerProcess server({"--no-demo", "--presence-interval-ms", std::to_string(kIntervalMs)});
    HubSubscriber a(server.port(), "/presence?type=x,y");
    HubSubscriber b(server.port(), "/presence?type=y");
    for (int i = 0; i < 2; ++i) a.next();
    b.next();
    Response metrics = fetch(server.port(), make_request("GET", "/metrics"));
    CHECK(metrics.body.find("sse_presence_streams 2\n") != std::string::npos);
    CHECK(metrics.body.find("sse_presence_watched_topics 2\n") != std::string::npos);
    CHECK(metrics.body.find("sse_presence_events_total 3\n") != std::string::npos);
}

TEST_CASE("presence: past kMaxWatchedTopics (10,000) a watcher is told to come back later, with a 200 and a retry:") {
    ServerProcess server({"--no-demo"});
    // 156 streams of 64 new topics each: 9,984 watched.
    auto names = [](int from, int count) {
        std::string list;
        for (int i = from; i < from + count; ++i) list += (list.empty() ? "w." : ",w.") + std::to_string(i);
        return list;
    };
    std::vector<std::unique_ptr<HubSubscriber>> watchers;
    for (int s = 0; s < 156; ++s) {
        watchers.push_back(std::make_unique<HubSubscriber>(server.port(), "/presence?type=" + names(s * 64, 64)));
        REQUIRE(watchers.back()->head().status == 200);
    }
    // 17 more would make 10,001: a 200 stream, a comment, a retry: and the end.
    HubSubscriber refused(server.port(), "/presence?type=" + names(9984, 17));
    CHECK(refused.head().status == 200);
    CHECK_FALSE(refused.next_event().has_value());
    CHECK(refused.reader().retry().has_value());
    CHECK(refused.reader().comment_count() >= 1);
    // Topics already watched cost nothing more; 16 new ones reach the limit exactly.
    HubSubscriber known(server.port(), "/presence?type=" + names(0, 64));
    CHECK(count_of(known.next()).topic == "w.0");
    HubSubscriber last(server.port(), "/presence?type=" + names(9984, 16));
    CHECK(count_of(last.next()).topic == "w.9984");
    Response metrics = fetch(server.port(), make_request("GET", "/metrics"));
    CHECK(metrics.body.find("sse_presence_watched_topics 10000\n") != std::string::npos);
}
