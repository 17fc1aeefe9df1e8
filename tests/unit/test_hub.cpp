// The hub with fake sinks: delivery, shared encoding, replay, reset, ending, expiry.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "sse/event_stream.h"
#include "sse/hub.h"

using sse::ChunkRef;
using sse::EventId;
using sse::Hub;
using sse::HubLimits;

namespace {

constexpr std::uint64_t kStart = 1'700'000'000'000;

struct FakeSink : sse::StreamSink {
    std::vector<ChunkRef> received;
    bool finished = false;
    void deliver(const ChunkRef& chunk) override { received.push_back(chunk); }
    void deliver_replay(const ChunkRef& chunk) override {
        received.push_back(chunk);
        ++replayed;
    }
    int replayed = 0;
    void finish() override { finished = true; }
    int pauses = 0;
    std::optional<std::uint32_t> paused_with;
    void pause(std::optional<std::uint32_t> retry_ms) override {
        ++pauses;
        paused_with = retry_ms;
    }

    std::string text() const {
        std::string all;
        for (const ChunkRef& c : received) all += c.bytes();
        return all;
    }
    // The ids on the wire, in order ("" for events without one).
    std::vector<std::string> ids() const {
        std::vector<std::string> out;
        for (const ChunkRef& c : received) {
            std::string_view b = c.bytes();
            if (b.starts_with("id: ")) out.emplace_back(b.substr(4, b.find('\n') - 4));
            else out.emplace_back("");
        }
        return out;
    }
};

HubLimits limits(std::size_t per_topic = 1000) {
    HubLimits l;
    l.history_per_topic = per_topic;
    return l;
}

}  // namespace

TEST_CASE("topic names: 1-64 of A-Z a-z 0-9 _ . -") {
    CHECK(sse::is_valid_topic("news"));
    CHECK(sse::is_valid_topic("a.b-c_D9"));
    CHECK(sse::is_valid_topic(std::string(64, 'x')));
    CHECK_FALSE(sse::is_valid_topic(""));
    CHECK_FALSE(sse::is_valid_topic(std::string(65, 'x')));
    for (const char* bad : {"a b", "a/b", "a\nb", "a%20", "caf\xc3\xa9", "a,b", "a:b"}) {
        CAPTURE(bad);
        CHECK_FALSE(sse::is_valid_topic(bad));
    }
}

TEST_CASE("a publish reaches single- and multi-topic streams in their wire forms") {
    Hub hub(limits(), kStart);
    FakeSink single, multi, other;
    auto* a = hub.subscribe(single, {"news"}, false, std::nullopt);
    auto* b = hub.subscribe(multi, {"news", "stock"}, true, std::nullopt);
    auto* c = hub.subscribe(other, {"weather"}, false, std::nullopt);

    Hub::Published p = hub.publish("news", "", "hello", kStart + 5);
    CHECK(p.queued == 2);
    CHECK(p.id == EventId{kStart + 5, 0});
    REQUIRE(single.received.size() == 1);
    REQUIRE(multi.received.size() == 1);
    CHECK(other.received.empty());
    CHECK(single.text() == "id: " + p.id.to_string() + "\ndata: hello\n\n");
    CHECK(multi.text() == "id: " + p.id.to_string() + "\nevent: news\ndata: hello\n\n");

    // A publisher-named event carries its name on both kinds of stream.
    hub.publish("news", "alert", "x", kStart + 6);
    CHECK(single.received.back().bytes().find("event: alert\n") != std::string_view::npos);
    CHECK(multi.received.back().bytes().find("event: alert\n") != std::string_view::npos);
    hub.unsubscribe(a);
    hub.unsubscribe(b);
    hub.unsubscribe(c);
}

TEST_CASE("one event is encoded once: every subscriber gets the same bytes") {
    Hub hub(limits(), kStart);
    std::vector<FakeSink> sinks(100);
    std::vector<Hub::Subscription*> subs;
    for (auto& sink : sinks) subs.push_back(hub.subscribe(sink, {"t"}, false, std::nullopt));
    hub.publish("t", "", "shared", kStart);
    const char* first = sinks[0].received.at(0).bytes().data();
    for (auto& sink : sinks) CHECK(sink.received.at(0).bytes().data() == first);
    CHECK(hub.stats().delivered == 100);
    for (auto* s : subs) hub.unsubscribe(s);
}

TEST_CASE("Last-Event-ID replays exactly what was missed, then live") {
    Hub hub(limits(), kStart);
    std::vector<EventId> ids;
    for (int i = 0; i < 10; ++i) ids.push_back(hub.publish("t", "", std::to_string(i), kStart + i).id);

    FakeSink sink;
    auto* s = hub.subscribe(sink, {"t"}, false, ids[6]);
    hub.publish("t", "", "live", kStart + 100);
    std::vector<std::string> expected = {ids[7].to_string(), ids[8].to_string(), ids[9].to_string(),
                                         hub.last_id().to_string()};
    CHECK(sink.ids() == expected);
    CHECK(sink.replayed == 3);  // the replay is marked as such; the live event is not
    CHECK(hub.stats().replays == 1);

    FakeSink up_to_date;
    auto* u = hub.subscribe(up_to_date, {"t"}, false, hub.last_id());
    CHECK(up_to_date.received.empty());  // nothing missed, nothing sent
    hub.unsubscribe(s);
    hub.unsubscribe(u);
}

TEST_CASE("a multi-topic stream replays all its topics merged in id order") {
    Hub hub(limits(), kStart);
    EventId start = hub.publish("a", "", "a0", kStart).id;
    std::vector<std::string> expected;
    for (int i = 1; i <= 30; ++i) {
        const char* topic = i % 3 == 0 ? "a" : (i % 3 == 1 ? "b" : "c");
        EventId id = hub.publish(topic, "", std::to_string(i), kStart + i).id;
        if (topic[0] != 'c') expected.push_back(id.to_string());  // c is not subscribed
    }
    FakeSink sink;
    auto* s = hub.subscribe(sink, {"a", "b"}, true, start);
    CHECK(sink.ids() == expected);
    hub.unsubscribe(s);
}

TEST_CASE("an evicted gap sends one reset, then everything held") {
    Hub hub(limits(3), kStart);
    std::vector<EventId> ids;
    for (int i = 0; i < 6; ++i) ids.push_back(hub.publish("t", "", std::to_string(i), kStart + i).id);
    FakeSink sink;
    auto* s = hub.subscribe(sink, {"t"}, false, ids[1]);  // 2 was evicted
    REQUIRE(sink.received.size() == 4);
    std::string reset(sink.received[0].bytes());
    CHECK(reset.starts_with("event: reset\n"));
    CHECK(reset.find("\"oldest\":\"" + ids[3].to_string() + "\"") != std::string::npos);
    CHECK(reset.find(ids[1].to_string()) == std::string::npos);  // never echoes Last-Event-ID
    CHECK(sink.ids() == std::vector<std::string>{"", ids[3].to_string(), ids[4].to_string(), ids[5].to_string()});
    CHECK(hub.stats().resets == 1);
    hub.unsubscribe(s);
}

TEST_CASE("ids from the future or from before a restart are answered with reset") {
    Hub before(limits(), kStart);
    EventId old_id = before.publish("t", "", "old", kStart).id;

    Hub after(limits(), kStart + 60'000);  // a restart one minute later
    EventId new_id = after.publish("t", "", "new", kStart + 60'001).id;
    CHECK(new_id > old_id);

    FakeSink from_old_run;
    auto* s1 = after.subscribe(from_old_run, {"t"}, false, old_id);
    REQUIRE(from_old_run.received.size() == 2);
    CHECK(from_old_run.received[0].bytes().find("\"reason\":\"gap\"") != std::string_view::npos);

    FakeSink from_future;
    auto* s2 = after.subscribe(from_future, {"t"}, false, EventId{kStart + 999'999, 0});
    REQUIRE(from_future.received.size() == 2);
    CHECK(from_future.received[0].bytes().find("\"reason\":\"unknown-id\"") != std::string_view::npos);
    after.unsubscribe(s1);
    after.unsubscribe(s2);
}

TEST_CASE("ending topics finishes the streams whose topics all ended") {
    Hub hub(limits(), kStart);
    FakeSink news_only, news_and_stock;
    auto* a = hub.subscribe(news_only, {"news"}, false, std::nullopt);
    auto* b = hub.subscribe(news_and_stock, {"news", "stock"}, true, std::nullopt);

    CHECK(hub.end_topic("news") == 1);
    CHECK(news_only.finished);
    CHECK_FALSE(news_and_stock.finished);
    CHECK(hub.all_ended(std::vector<std::string>{"news"}));
    CHECK_FALSE(hub.all_ended(std::vector<std::string>{"news", "stock"}));

    CHECK(hub.end_topic("stock") == 1);
    CHECK(news_and_stock.finished);

    hub.publish("news", "", "back", kStart);  // publishing revives a topic
    CHECK_FALSE(hub.all_ended(std::vector<std::string>{"news"}));
    hub.unsubscribe(a);
    hub.unsubscribe(b);
}

TEST_CASE("an event with a retry carries it in both wire forms, and in history") {
    Hub hub(limits(), kStart);
    FakeSink plain, named;
    auto* a = hub.subscribe(plain, {"t"}, false, std::nullopt);
    auto* b = hub.subscribe(named, {"t", "u"}, true, std::nullopt);
    EventId id = hub.publish("t", "", "bye", kStart, 60000).id;
    std::string id_text = id.to_string();
    CHECK(plain.text() == "id: " + id_text + "\nretry: 60000\ndata: bye\n\n");
    CHECK(named.text() == "id: " + id_text + "\nevent: t\nretry: 60000\ndata: bye\n\n");
    FakeSink late;
    auto* c = hub.subscribe(late, {"t"}, false, EventId{});
    CHECK(late.text() == plain.text());  // replayed as sent
    hub.unsubscribe(a);
    hub.unsubscribe(b);
    hub.unsubscribe(c);
}

TEST_CASE("pausing a topic pauses each of its streams once, and does not end it") {
    Hub hub(limits(), kStart);
    FakeSink t_only, t_and_u, u_only;
    auto* a = hub.subscribe(t_only, {"t"}, false, std::nullopt);
    auto* b = hub.subscribe(t_and_u, {"t", "u"}, true, std::nullopt);
    auto* c = hub.subscribe(u_only, {"u"}, false, std::nullopt);

    CHECK(hub.pause_topic("t", 5000) == 2);
    CHECK(t_only.pauses == 1);
    CHECK(t_only.paused_with == std::optional<std::uint32_t>(5000));
    CHECK(t_and_u.pauses == 1);
    CHECK(u_only.pauses == 0);
    CHECK_FALSE(t_only.finished);
    // Not ended: a client that comes back streams again (no 204).
    CHECK_FALSE(hub.all_ended(std::vector<std::string>{"t"}));

    CHECK(hub.pause_topic("t", std::nullopt) == 2);
    CHECK(t_only.paused_with == std::nullopt);
    CHECK(hub.pause_topic("nobody", 1000) == 0);
    CHECK(hub.topic_count() == 2);  // pausing a topic nobody watches creates nothing
    hub.unsubscribe(a);
    hub.unsubscribe(b);
    hub.unsubscribe(c);
}

TEST_CASE("topics without subscribers or history cost nothing") {
    Hub hub(limits(), kStart);
    std::vector<FakeSink> sinks(500);
    std::vector<Hub::Subscription*> subs;
    for (std::size_t i = 0; i < sinks.size(); ++i) {
        subs.push_back(hub.subscribe(sinks[i], {"random-" + std::to_string(i), "shared"}, true, std::nullopt));
    }
    CHECK(hub.topic_count() == 501);
    CHECK(hub.subscribers("shared") == 500);
    // Unsubscribing in a scattered order exercises the swap-with-last removal.
    for (std::size_t i = 0; i < subs.size(); i += 2) hub.unsubscribe(subs[i]);
    CHECK(hub.subscribers("shared") == 250);
    hub.publish("shared", "", "x", kStart);
    for (std::size_t i = 1; i < sinks.size(); i += 2) CHECK(sinks[i].received.size() == 1);
    for (std::size_t i = 1; i < subs.size(); i += 2) hub.unsubscribe(subs[i]);
    CHECK(hub.topic_count() == 0);
    CHECK(hub.history().topics() == 1);  // only "shared" holds an event
}

TEST_CASE("ended topics are remembered up to a bound, oldest forgotten first") {
    Hub hub(limits(), kStart);
    for (std::size_t i = 0; i < sse::kMaxEndedTopics + 5; ++i) hub.end_topic("gone-" + std::to_string(i));
    CHECK(hub.topic_count() == sse::kMaxEndedTopics);
    CHECK_FALSE(hub.all_ended(std::vector<std::string>{"gone-0"}));
    CHECK(hub.all_ended(std::vector<std::string>{"gone-" + std::to_string(sse::kMaxEndedTopics + 4)}));
}

TEST_CASE("a pattern stream gets every matching topic's events, named, including topics new after it began") {
    Hub hub(limits(), kStart);
    FakeSink sink, other;
    auto* s = hub.subscribe(sink, {"user.42.*"}, false, std::nullopt);
    auto* o = hub.subscribe(other, {"user.7.*"}, false, std::nullopt);
    hub.publish("user.42.orders", "", "o1", kStart);
    hub.publish("user.7.orders", "", "x", kStart);
    hub.publish("user.42.cart", "", "c1", kStart);    // a topic nobody named
    hub.publish("user.42.a.b", "", "deep", kStart);   // two segments: not '*'
    CHECK(sink.received.size() == 2);
    CHECK(sink.text().find("event: user.42.orders\ndata: o1\n") != std::string::npos);
    CHECK(sink.text().find("event: user.42.cart\ndata: c1\n") != std::string::npos);
    CHECK(other.received.size() == 1);
    CHECK(hub.pattern_subscriptions() == 2);
    hub.unsubscribe(s);
    hub.unsubscribe(o);
    CHECK(hub.pattern_subscriptions() == 0);
    hub.publish("user.42.orders", "", "after", kStart);
    CHECK(sink.received.size() == 2);
}

TEST_CASE("an event a stream follows by a name and by patterns reaches it once") {
    Hub hub(limits(), kStart);
    FakeSink sink;
    auto* s = hub.subscribe(sink, {"user.42.orders", "user.42.*", "user.**"}, true, std::nullopt);
    Hub::Published p = hub.publish("user.42.orders", "", "once", kStart);
    CHECK(sink.received.size() == 1);
    CHECK(p.queued == 1);
    hub.publish("user.9.x.y", "", "by **", kStart);
    CHECK(sink.received.size() == 2);
    hub.unsubscribe(s);
}

TEST_CASE("a pattern stream resumes with every matching topic's missed events, in id order") {
    Hub hub(limits(), kStart);
    EventId seen = hub.publish("user.42.a", "", "seen", kStart).id;
    EventId a = hub.publish("user.42.a", "", "a", kStart + 1).id;
    hub.publish("user.7.a", "", "not mine", kStart + 2);
    EventId b = hub.publish("user.42.b", "", "b", kStart + 3).id;
    FakeSink sink;
    auto* s = hub.subscribe(sink, {"user.42.*"}, false, seen);
    CHECK(sink.ids() == std::vector<std::string>{a.to_string(), b.to_string()});
    CHECK(sink.text().find("event: reset") == std::string::npos);
    // Live events continue after the replay, without repeating it.
    EventId c = hub.publish("user.42.c", "", "c", kStart + 4).id;
    CHECK(sink.ids().back() == c.to_string());
    CHECK(sink.received.size() == 3);
    hub.unsubscribe(s);
}

TEST_CASE("a pattern stream resuming past what the history forgot gets a reset") {
    Hub hub(limits(2), kStart);
    EventId first = hub.publish("user.42.a", "", "0", kStart).id;
    for (int i = 1; i < 5; ++i) hub.publish("user.42.a", "", std::to_string(i), kStart + i);
    FakeSink sink;
    auto* s = hub.subscribe(sink, {"user.42.*"}, false, first);
    CHECK(sink.text().find("event: reset\ndata: {\"reason\":\"gap\"") != std::string::npos);
    hub.unsubscribe(s);
}

TEST_CASE("pausing a topic pauses the pattern streams that receive it, each once") {
    Hub hub(limits(), kStart);
    FakeSink by_name, by_pattern, both, elsewhere;
    auto* a = hub.subscribe(by_name, {"user.42.orders"}, false, std::nullopt);
    auto* b = hub.subscribe(by_pattern, {"user.42.*"}, false, std::nullopt);
    auto* c = hub.subscribe(both, {"user.42.orders", "user.**"}, true, std::nullopt);
    auto* d = hub.subscribe(elsewhere, {"user.7.*"}, false, std::nullopt);
    CHECK(hub.pause_topic("user.42.orders", 1000) == 3);
    CHECK(by_name.pauses == 1);
    CHECK(by_pattern.pauses == 1);
    CHECK(both.pauses == 1);
    CHECK(elsewhere.pauses == 0);
    for (auto* x : {a, b, c, d}) hub.unsubscribe(x);
}

TEST_CASE("among a thousand patterns that cannot match, only the matching stream receives") {
    Hub hub(limits(), kStart);
    std::vector<FakeSink> quiet(1000);
    std::vector<Hub::Subscription*> subs;
    for (std::size_t i = 0; i < quiet.size(); ++i)
        subs.push_back(hub.subscribe(quiet[i], {"nobody." + std::to_string(i) + ".*"}, false, std::nullopt));
    FakeSink mine;
    subs.push_back(hub.subscribe(mine, {"user.1.*"}, false, std::nullopt));
    CHECK(hub.publish("user.1.events", "", "x", kStart).queued == 1);
    for (const FakeSink& q : quiet) CHECK(q.received.empty());
    for (auto* s : subs) hub.unsubscribe(s);
}

TEST_CASE("last_n: a new stream first gets the newest N held events of each topic, merged in id order") {
    Hub hub(limits(), kStart);
    std::vector<EventId> ids;
    for (int i = 0; i < 6; ++i) ids.push_back(hub.publish(i % 2 ? "a" : "b", "", std::to_string(i), kStart + i).id);
    hub.publish("other", "", "x", kStart + 9);
    FakeSink sink;
    auto* s = hub.subscribe(sink, {"a", "b"}, true, std::nullopt, 2);  // b: 0 2 4, a: 1 3 5
    CHECK(sink.ids() == std::vector<std::string>{ids[2].to_string(), ids[3].to_string(), ids[4].to_string(),
                                                 ids[5].to_string()});
    CHECK(sink.text().find("event: reset") == std::string::npos);
    FakeSink more;
    auto* m = hub.subscribe(more, {"a", "b"}, true, std::nullopt, 100);  // more than is held: all of it
    CHECK(more.received.size() == 6);
    FakeSink pattern;
    auto* p = hub.subscribe(pattern, {"*"}, false, std::nullopt, 1);  // one of each: a, b, other
    CHECK(pattern.ids() == std::vector<std::string>{ids[4].to_string(), ids[5].to_string(),
                                                    hub.last_id().to_string()});
    // With a Last-Event-ID, exactly what was missed, never the last N again.
    FakeSink resumed;
    auto* r = hub.subscribe(resumed, {"a", "b"}, true, ids[4], 3);
    CHECK(resumed.ids() == std::vector<std::string>{ids[5].to_string()});
    for (auto* x : {s, m, p, r}) hub.unsubscribe(x);
}

TEST_CASE("one event to several topics: one id, once per stream, live and replayed") {
    Hub hub(limits(), kStart);
    FakeSink on_a, on_b, on_both, by_pattern;
    auto* a = hub.subscribe(on_a, {"a"}, false, std::nullopt);
    auto* b = hub.subscribe(on_b, {"b"}, false, std::nullopt);
    auto* both = hub.subscribe(on_both, {"a", "b"}, true, std::nullopt);
    auto* p = hub.subscribe(by_pattern, {"*"}, false, std::nullopt);
    const std::vector<std::string> topics = {"a", "b"};
    Hub::Published published = hub.publish(topics, "", "twice named, once sent", kStart);
    CHECK(published.queued == 4);
    for (FakeSink* sink : {&on_a, &on_b, &on_both, &by_pattern}) {
        CHECK(sink->ids() == std::vector<std::string>{published.id.to_string()});
    }
    CHECK(on_both.text().find("event: a\n") != std::string::npos);  // named by the first topic it follows
    EventId before = hub.publish("c", "", "earlier", kStart).id;
    EventId after = hub.publish(topics, "", "again", kStart + 1).id;
    FakeSink resumed, newest;
    auto* r = hub.subscribe(resumed, {"a", "b"}, true, before);
    CHECK(resumed.ids() == std::vector<std::string>{after.to_string()});
    auto* n = hub.subscribe(newest, {"a", "b"}, true, std::nullopt, 5);
    CHECK(newest.ids() == std::vector<std::string>{published.id.to_string(), after.to_string()});
    for (auto* x : {a, b, both, p, r, n}) hub.unsubscribe(x);
}

TEST_CASE("ttl: an expiring event is delivered live, then replayed to no one, and missing it is no gap") {
    Hub hub(limits(), kStart);
    FakeSink live, by_pattern;
    auto* l = hub.subscribe(live, {"t"}, false, std::nullopt);
    auto* p = hub.subscribe(by_pattern, {"*"}, false, std::nullopt);
    EventId kept = hub.publish("t", "", "kept", kStart + 1).id;
    const std::uint64_t expires = kStart + 2 + 1000;
    EventId brief = hub.publish("t", "", "brief", kStart + 2, std::nullopt, expires).id;
    const std::vector<std::string> both = {kept.to_string(), brief.to_string()};
    CHECK(live.ids() == both);  // live delivery ignores the ttl
    CHECK(by_pattern.ids() == both);

    CHECK(hub.expire(expires - 1) == 0);  // a clock the test controls
    FakeSink early;
    auto* e = hub.subscribe(early, {"t"}, false, kept);
    CHECK(early.ids() == std::vector<std::string>{brief.to_string()});

    CHECK(hub.expire(expires) == 1);
    FakeSink resumed, resumed_by_pattern, newest;
    auto* r = hub.subscribe(resumed, {"t"}, false, kept);
    auto* rp = hub.subscribe(resumed_by_pattern, {"*"}, false, kept);
    auto* n = hub.subscribe(newest, {"t"}, false, std::nullopt, 5);
    CHECK(resumed.received.empty());  // no reset: the only missing event expired
    CHECK(resumed_by_pattern.received.empty());
    CHECK(newest.ids() == std::vector<std::string>{kept.to_string()});
    CHECK(hub.stats().resets == 0);
    CHECK(hub.history().events_of("t") == 1);
    for (auto* x : {l, p, e, r, rp, n}) hub.unsubscribe(x);
}

TEST_CASE("ttl: publishing first forgets what has expired, so it never pushes out a live event") {
    Hub hub(limits(2), kStart);
    hub.publish("t", "", "brief", kStart + 1, std::nullopt, kStart + 500);
    EventId second = hub.publish("t", "", "kept", kStart + 2).id;
    EventId third = hub.publish("t", "", "later", kStart + 600).id;  // first has expired by now
    CHECK(hub.history().evictions() == 0);
    CHECK(hub.history().expirations() == 1);
    CHECK(hub.history().events_of("t") == 2);
    // A client from before all three missed one expired and two held: no gap.
    FakeSink sink;
    auto* s = hub.subscribe(sink, {"t"}, false, EventId{kStart, 0});
    CHECK(sink.ids() == std::vector<std::string>{second.to_string(), third.to_string()});
    hub.unsubscribe(s);
}

TEST_CASE("ttl: an evicted event still sends a reset when expired ones are missing too") {
    Hub hub(limits(2), kStart);
    EventId evicted = hub.publish("t", "", "evicted", kStart + 1).id;
    hub.publish("t", "", "brief", kStart + 2, std::nullopt, kStart + 100);
    EventId kept = hub.publish("t", "", "kept", kStart + 3).id;  // evicts the first
    hub.expire(kStart + 100);
    FakeSink from_start, after_evicted;
    auto* a = hub.subscribe(from_start, {"t"}, false, EventId{kStart, 0});
    auto* b = hub.subscribe(after_evicted, {"t"}, false, evicted);
    CHECK(from_start.ids() == std::vector<std::string>{"", kept.to_string()});
    CHECK(from_start.text().starts_with("event: reset\n"));
    CHECK(after_evicted.ids() == std::vector<std::string>{kept.to_string()});
    CHECK(hub.stats().resets == 1);
    hub.unsubscribe(a);
    hub.unsubscribe(b);
}

TEST_CASE("ttl: an event published to several topics expires from each") {
    Hub hub(limits(), kStart);
    const std::vector<std::string> topics = {"a", "b"};
    hub.publish(topics, "", "both", kStart, std::nullopt, kStart + 10);
    CHECK(hub.history().events() == 2);
    CHECK(hub.expire(kStart + 10) == 2);
    CHECK(hub.history().events() == 0);
    CHECK(hub.history().topics() == 0);
}

TEST_CASE("ttl: an ingested entry already expired is delivered live but not held") {
    Hub hub(limits(), kStart);
    hub.set_external_ids(true);
    FakeSink live;
    auto* l = hub.subscribe(live, {"t"}, false, std::nullopt);
    const std::string_view topic[] = {"t"};
    const std::uint64_t now = kStart + 5000;
    hub.ingest(EventId{kStart + 1, 0}, topic, "", "late", std::nullopt, now, now);
    CHECK(live.received.size() == 1);
    CHECK(hub.history().events_of("t") == 0);
    hub.ingest(EventId{kStart + 2, 0}, topic, "", "fresh", std::nullopt, now + 1, now);
    CHECK(live.received.size() == 2);
    CHECK(hub.history().events_of("t") == 1);
    CHECK(hub.history().newest("t") == EventId{kStart + 2, 0});
    hub.unsubscribe(l);
}
