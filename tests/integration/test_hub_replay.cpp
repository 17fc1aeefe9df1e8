// Resuming against the real server: Last-Event-ID (header or query) replays
// exactly the missed events, in id order across the topics of a stream, then
// live ones with no duplicate; evicted history is announced by event: reset;
// a stream ended by --max-stream-age resumes without loss.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/hub_client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

using namespace sse::test;

namespace {

struct Published {
    std::string topic;
    std::string id;
    std::string data;
};

std::string last_event_id_header(const std::string& id) { return "Last-Event-ID: " + id + "\r\n"; }

// Reads `expected` from `sub` in order: same id, same data.
void expect_events(HubSubscriber& sub, const std::vector<Published>& expected) {
    for (const Published& want : expected) {
        CAPTURE(want.data);
        SseEvent event = sub.next();
        CHECK(id_of(event) == want.id);
        CHECK(event.data == want.data);
    }
}

}  // namespace

TEST_CASE("hub: Last-Event-ID replays exactly the missed events of a topic, then live ones") {
    ServerProcess server({"--no-demo"});
    HubPublisher publisher(server.port());
    std::vector<Published> sent;
    for (int i = 1; i <= 20; ++i) sent.push_back({"r", publisher.publish("r", std::to_string(i)), std::to_string(i)});
    const std::vector<Published> missed(sent.begin() + 10, sent.end());  // #11..#20

    auto check_resume = [&](HubSubscriber& sub) {
        REQUIRE(sub.head().status == 200);
        expect_events(sub, missed);
        std::string live = std::to_string(sent.size() + 1);
        Published next{"r", publisher.publish("r", live), live};
        sent.push_back(next);
        expect_events(sub, {next});  // #20 was not sent twice
    };
    SUBCASE("in the Last-Event-ID header") {
        HubSubscriber sub(server.port(), "/latest/r", last_event_id_header(sent[9].id));
        check_resume(sub);
    }
    SUBCASE("in the lastEventId query parameter") {
        HubSubscriber sub(server.port(), "/latest/r?lastEventId=" + sent[9].id);
        check_resume(sub);
    }
    SUBCASE("from the newest id: nothing to replay") {
        HubSubscriber sub(server.port(), "/latest/r", last_event_id_header(sent.back().id));
        Published next{"r", publisher.publish("r", "live"), "live"};
        expect_events(sub, {next});
    }
}

TEST_CASE("hub: a multi-topic resume replays its topics' events after the id, merged in id order") {
    ServerProcess server({"--no-demo"});
    HubPublisher publisher(server.port());
    std::vector<Published> sent;
    auto publish = [&](const std::string& topic, const std::string& data) {
        sent.push_back({topic, publisher.publish(topic, data), data});
        return sent.back();
    };
    const std::string pattern = "abcaabcbcca";  // irregular, so no topic keeps a rhythm
    for (int round = 0; round < 3; ++round) {
        for (char c : pattern) publish(std::string(1, c), c + std::to_string(sent.size()));
    }
    // From an a event, and from a c event the stream does not carry.
    for (std::size_t from : {std::size_t{12}, std::size_t{13}}) {
        CAPTURE(sent[from].topic);
        std::vector<Published> expected;
        for (std::size_t i = from + 1; i < sent.size(); ++i)
            if (sent[i].topic != "c") expected.push_back(sent[i]);

        HubSubscriber sub(server.port(), "/latest?type=a,b", last_event_id_header(sent[from].id));
        for (const Published& want : expected) {
            CAPTURE(want.data);
            SseEvent event = sub.next();
            CHECK(id_of(event) == want.id);
            CHECK(event.data == want.data);
            CHECK(event.type == want.topic);
        }
        publish("c", "not mine");
        expect_events(sub, {publish("b", "live")});
    }
}

TEST_CASE("hub: resuming from evicted history starts with event: reset naming the oldest held id") {
    ServerProcess server({"--no-demo", "--history", "5"});
    HubPublisher publisher(server.port());
    std::vector<Published> sent;
    for (int i = 1; i <= 10; ++i) sent.push_back({"h", publisher.publish("h", std::to_string(i)), std::to_string(i)});
    const std::vector<Published> held(sent.begin() + 5, sent.end());  // #6..#10

    HubSubscriber sub(server.port(), "/latest/h", last_event_id_header(sent[1].id));
    SseEvent reset = sub.next();
    CHECK(reset.type == "reset");
    CHECK_FALSE(reset.id);  // an id here would move the browser's position
    CHECK(json_field(reset.data, "reason") == "gap");
    CHECK(json_field(reset.data, "oldest") == sent[5].id);
    CHECK(reset.data.find(sent[1].id) == std::string::npos);  // the client's id is never echoed
    expect_events(sub, held);
    Published live{"h", publisher.publish("h", "live"), "live"};
    expect_events(sub, {live});
}

TEST_CASE("hub: an id this server never issued gets reset unknown-id, then everything held") {
    ServerProcess server({"--no-demo", "--history", "5"});
    HubPublisher publisher(server.port());
    std::vector<Published> sent;
    for (int i = 1; i <= 7; ++i) sent.push_back({"h", publisher.publish("h", std::to_string(i)), std::to_string(i)});
    const std::string future = "99999999999999-0";

    HubSubscriber sub(server.port(), "/latest/h", last_event_id_header(future));
    SseEvent reset = sub.next();
    CHECK(reset.type == "reset");
    CHECK(json_field(reset.data, "reason") == "unknown-id");
    CHECK(json_field(reset.data, "oldest") == sent[2].id);
    CHECK(reset.data.find(future) == std::string::npos);
    expect_events(sub, std::vector<Published>(sent.begin() + 2, sent.end()));
}

TEST_CASE("hub: a malformed Last-Event-ID counts as absent: no reset, no replay") {
    ServerProcess server({"--no-demo", "--history", "5"});
    HubPublisher publisher(server.port());
    for (int i = 1; i <= 10; ++i) publisher.publish("h", std::to_string(i));

    for (const std::string& extra : {last_event_id_header("garbage"), last_event_id_header("1-2-3"),
                                     last_event_id_header("-5"), std::string("?lastEventId=garbage")}) {
        CAPTURE(extra);
        bool in_query = extra.starts_with("?");
        HubSubscriber sub(server.port(), "/latest/h" + (in_query ? extra : ""), in_query ? "" : extra);
        REQUIRE(sub.head().status == 200);
        Published live{"h", publisher.publish("h", "live"), "live"};
        SseEvent first = sub.next();
        CHECK(first.type.empty());
        CHECK(id_of(first) == live.id);
        CHECK(first.data == "live");
    }
}

TEST_CASE("hub: a topic nobody watches still keeps its history") {
    ServerProcess server({"--no-demo"});
    HubPublisher publisher(server.port());
    std::vector<Published> sent;
    for (int i = 1; i <= 3; ++i)
        sent.push_back({"unwatched", publisher.publish("unwatched", std::to_string(i)), std::to_string(i)});

    HubSubscriber sub(server.port(), "/latest/unwatched", last_event_id_header(sent[0].id));
    expect_events(sub, {sent[1], sent[2]});
    Published live{"unwatched", publisher.publish("unwatched", "4"), "4"};
    expect_events(sub, {live});
}

TEST_CASE("hub: --max-stream-age ends a stream after a final retry:, and resuming loses nothing") {
    ServerProcess server({"--no-demo", "--max-stream-age", "1"});
    HubPublisher publisher(server.port());
    HubSubscriber first(server.port(), "/latest/age");
    Published before{"age", publisher.publish("age", "before"), "before"};
    expect_events(first, {before});

    // Everything after the last event, up to the server's close.
    REQUIRE(first.conn().wait_for_close());
    CHECK_FALSE(first.conn().was_reset());
    const std::string tail = first.conn().input();
    CAPTURE(tail);
    REQUIRE(tail.starts_with("retry: "));
    CHECK(tail.ends_with("\n\n"));
    long retry = std::stol(tail.substr(7));
    CHECK(retry >= 2400);
    CHECK(retry <= 3600);

    // Published while nobody is connected, received on resume.
    std::vector<Published> gap;
    for (const char* data : {"gap1", "gap2"}) gap.push_back({"age", publisher.publish("age", data), data});

    // The resumed stream ages out too; a client that comes back with its
    // last id each time must see every event once, in order.
    std::vector<Published> expected = gap;
    expected.push_back({"age", "", "live"});
    std::string last_id = before.id;
    std::size_t received = 0;
    for (int connection = 0; connection < 10 && received < expected.size(); ++connection) {
        HubSubscriber sub(server.port(), "/latest/age", last_event_id_header(last_id));
        REQUIRE(sub.head().status == 200);
        while (received < expected.size()) {
            if (received == gap.size() && expected.back().id.empty()) {
                expected.back().id = publisher.publish("age", "live");
            }
            std::optional<SseEvent> event = sub.next_event();
            if (!event) break;  // aged out again: reconnect
            CAPTURE(received);
            CHECK(id_of(*event) == expected[received].id);
            CHECK(event->data == expected[received].data);
            last_id = event->id.value_or("");
            ++received;
        }
    }
    CHECK(received == expected.size());
}
