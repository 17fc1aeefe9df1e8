// Presence: the board's throttle over several intervals (fake time), the
// hub telling only of watched topics, and the Redis report format.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "redis/redis_presence.h"
#include "sse/hub.h"
#include "sse/presence.h"

using sse::PresenceBoard;

namespace {

constexpr sse::Millis kInterval = 1000;

std::vector<std::string> said(const std::vector<PresenceBoard::Change>& changes) {
    std::vector<std::string> out;
    for (const auto& c : changes) out.push_back(c.topic + "=" + std::to_string(c.subscribers));
    return out;
}

struct NullSink : sse::StreamSink {
    void deliver(const sse::ChunkRef&) override {}
    void deliver_replay(const sse::ChunkRef&) override {}
    void finish() override {}
    void pause(std::optional<std::uint32_t>) override {}
};

struct CountingObserver : sse::PresenceObserver {
    std::vector<std::string> heard;
    void subscribers_changed(std::string_view topic, std::size_t n) override {
        heard.push_back(std::string(topic) + "=" + std::to_string(n));
    }
};

}  // namespace

TEST_CASE("presence event: named presence, JSON data, no id") {
    CHECK(sse::encode_presence_event("room.1", 3) ==
          "event: presence\ndata: {\"topic\":\"room.1\",\"subscribers\":3}\n\n");
}

TEST_CASE("board: the first change goes out at once, later ones at most once per interval, over five intervals") {
    PresenceBoard board(kInterval);
    CHECK(board.watch("room", 0));
    CHECK_FALSE(board.next_due());
    board.set("room", 1);
    CHECK(board.next_due() == 0);               // never told before: at once
    CHECK(said(board.take_due(0)) == std::vector<std::string>{"room=1"});
    // A burst within the interval: held back, then the count of that moment.
    for (std::size_t n = 2; n <= 50; ++n) board.set("room", n);
    CHECK(board.take_due(500).empty());
    CHECK(board.next_due() == 1000);
    CHECK(said(board.take_due(1000)) == std::vector<std::string>{"room=50"});
    // One change per interval for the next intervals: each sent, one interval apart.
    for (int period = 2; period <= 5; ++period) {
        sse::Millis start = period * kInterval;
        board.set("room", 50 + period);
        CHECK(board.next_due() <= start + 1);   // last told about one interval ago
        CHECK(said(board.take_due(start + 1)) == std::vector<std::string>{"room=" + std::to_string(50 + period)});
        CHECK(board.take_due(start + 999).empty());
    }
}

TEST_CASE("board: a count that comes back to what was told says nothing") {
    PresenceBoard board(kInterval);
    board.watch("room", 4);
    board.set("room", 5);
    CHECK(said(board.take_due(0)) == std::vector<std::string>{"room=5"});
    board.set("room", 6);
    board.set("room", 5);
    CHECK(board.take_due(1000).empty());
    CHECK_FALSE(board.next_due());
}

TEST_CASE("board: topics are throttled each on its own, and unwatched ones are not on it") {
    PresenceBoard board(kInterval);
    board.watch("a", 0);
    board.watch("b", 0);
    board.set("a", 1);
    CHECK(said(board.take_due(0)) == std::vector<std::string>{"a=1"});
    board.set("b", 1);
    board.set("a", 2);
    CHECK(said(board.take_due(300)) == std::vector<std::string>{"b=1"});  // b never told: at once
    CHECK(board.next_due() == 1000);
    CHECK(said(board.take_due(1000)) == std::vector<std::string>{"a=2"});
    board.set("c", 7);   // not watched: ignored
    CHECK_FALSE(board.watched("c"));
    CHECK(board.count("c") == 0);
    CHECK_FALSE(board.next_due());
}

TEST_CASE("board: watchers are counted; the last one out takes the topic off, waiting changes too") {
    PresenceBoard board(kInterval);
    CHECK(board.watch("room", 2));
    CHECK_FALSE(board.watch("room", 99));       // second watcher: the count is kept
    CHECK(board.count("room") == 2);
    board.set("room", 3);
    CHECK_FALSE(board.unwatch("room"));
    CHECK(board.unwatch("room"));
    CHECK_FALSE(board.watched("room"));
    CHECK_FALSE(board.next_due());
    CHECK(board.take_due(5000).empty());
    CHECK(board.topics().empty());
}

TEST_CASE("hub: only watched topics are told of, for 1, 2 and many subscribers coming and going") {
    sse::Hub hub(sse::HubLimits{}, 1'700'000'000'000);
    CountingObserver observer;
    hub.set_presence_observer(&observer);
    std::vector<NullSink> sinks(50);
    // Churn on an unwatched topic: the observer hears nothing.
    for (int round = 0; round < 3; ++round) {
        std::vector<sse::Hub::Subscription*> subs;
        for (auto& sink : sinks) subs.push_back(hub.subscribe(sink, {"quiet"}, false, std::nullopt));
        for (auto* s : subs) hub.unsubscribe(s);
    }
    CHECK(observer.heard.empty());
    CHECK(hub.topic_count() == 0);

    hub.watch("room");
    CHECK(hub.topic_count() == 1);              // a watched topic stays, even empty
    for (std::size_t many : {std::size_t{1}, std::size_t{2}, sinks.size()}) {
        observer.heard.clear();
        std::vector<sse::Hub::Subscription*> subs;
        for (std::size_t i = 0; i < many; ++i) subs.push_back(hub.subscribe(sinks[i], {"room", "quiet"}, true, std::nullopt));
        for (auto* s : subs) hub.unsubscribe(s);
        REQUIRE(observer.heard.size() == 2 * many);
        CHECK(observer.heard[many - 1] == "room=" + std::to_string(many));
        CHECK(observer.heard.back() == "room=0");
    }
    hub.unwatch("room");
    CHECK(hub.topic_count() == 0);
    hub.set_presence_observer(nullptr);
}

TEST_CASE("redis presence report: round trip, empty parts, and malformed reports refused") {
    sse::PresenceReport report;
    report.watched = {"room.1", "room-2"};
    report.counts = {{"room.1", 3}, {"news", 12}};
    std::string text = sse::encode_presence_report(report);
    CHECK(text == "room.1 room-2\nroom.1 3 news 12");
    std::optional<sse::PresenceReport> back = sse::parse_presence_report(text);
    REQUIRE(back);
    CHECK(back->watched == report.watched);
    CHECK(back->counts == report.counts);

    std::optional<sse::PresenceReport> empty = sse::parse_presence_report("\n");
    REQUIRE(empty);
    CHECK(empty->watched.empty());
    CHECK(empty->counts.empty());

    for (const char* bad : {"", "room", "room\nnews", "room\nnews x", "room\nnews -1", "bad!\n",
                            "room\nnews 1 ", "room\nnews  1", "ro*m\n", "room\nn*ws 1"}) {
        CAPTURE(std::string(bad));
        CHECK_FALSE(sse::parse_presence_report(bad));
    }
}
