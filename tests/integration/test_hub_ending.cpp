// The two ways a publisher ends a stream, as the tutorial teaches them:
// for good (DELETE /publish, then 204 to the reconnect: tested in
// test_hub.cpp), and the pause: a final event carrying "retry: MS"
// (POST /publish?...&retry=MS&close=1), after which the streams close, the
// clients come back after MS and resume with Last-Event-ID, losing nothing.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/hub_client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

using namespace sse::test;

namespace {

bool has_line(const SseEvent& event, const std::string& line) {
    for (const std::string& l : event.lines)
        if (l == line) return true;
    return false;
}

// POST /publish?<query> with `body` on a fresh connection.
Response post(std::uint16_t port, const std::string& query, const std::string& body) {
    return fetch(port, make_request("POST", "/publish?" + query,
                                    "Content-Length: " + std::to_string(body.size()) + "\r\n") +
                           body);
}

}  // namespace

TEST_CASE("ending: retry=MS puts a retry: line into the event, for live and replayed readers") {
    ServerProcess server({"--no-demo"});
    HubSubscriber sub(server.port(), "/latest/t");
    Response answer = post(server.port(), "topic=t&retry=60000", "come back in a minute");
    REQUIRE(answer.status == 200);
    CHECK(json_field(answer.body, "closed").empty());  // no close=1: nothing closed
    SseEvent event = sub.next();
    CHECK(has_line(event, "retry: 60000"));
    CHECK(event.data == "come back in a minute");
    CHECK(sub.reader().retry() == std::optional<std::string>("60000"));
    // A retry alone does not close the stream.
    std::string more = HubPublisher(server.port()).publish("t", "more");
    CHECK(id_of(sub.next()) == more);

    HubSubscriber late(server.port(), "/latest/t", "Last-Event-ID: 0-0\r\n");
    CHECK(has_line(late.next(), "retry: 60000"));
}

TEST_CASE("ending: retry= and close= out of bounds are 400 and publish nothing") {
    ServerProcess server({"--no-demo"});
    HubSubscriber sub(server.port(), "/latest/t");
    for (const std::string query : {"topic=t&retry=0", "topic=t&retry=86400001", "topic=t&retry=abc",
                                    "topic=t&retry=-5", "topic=t&retry=", "topic=t&retry=1.5",
                                    "topic=t&retry=99999999999999999999", "topic=t&close=yes", "topic=t&close=",
                                    "topic=t&close=0", "topic=t&retry=1000&close=2"}) {
        CAPTURE(query);
        Response answer = post(server.port(), query, "no");
        CHECK(answer.status == 400);
        CHECK_FALSE(answer.body.empty());
    }
    // The bounds themselves are accepted.
    CHECK(post(server.port(), "topic=u&retry=1", "x").status == 200);
    CHECK(post(server.port(), "topic=u&retry=86400000", "x").status == 200);
    // Nothing refused reached the stream, which is still open: the next
    // event it sees is this one.
    std::string id = HubPublisher(server.port()).publish("t", "sentinel");
    SseEvent next = sub.next();
    CHECK(id_of(next) == id);
    CHECK(next.data == "sentinel");
}

TEST_CASE("ending: close=1 pauses the topic's streams; they come back, stream again and lose nothing") {
    ServerProcess server({"--no-demo"});
    constexpr long kPauseMs = 2000;
    HubSubscriber alone(server.port(), "/latest/t");
    HubSubscriber among(server.port(), "/latest?type=t,u");
    HubSubscriber other(server.port(), "/latest/u");

    Response answer = post(server.port(), "topic=t&retry=" + std::to_string(kPauseMs) + "&close=1", "pause");
    REQUIRE(answer.status == 200);
    CHECK(json_field(answer.body, "queued") == "2");
    CHECK(json_field(answer.body, "closed") == "2");
    std::string pause_id = json_field(answer.body, "id");

    for (HubSubscriber* sub : {&alone, &among}) {
        SseEvent last = sub->next();
        CHECK(id_of(last) == pause_id);
        CHECK(has_line(last, "retry: " + std::to_string(kPauseMs)));
        // Then the stream ends, its last word a retry no sooner than asked
        // and at most 20% later (spread, so a crowd does not return at once).
        CHECK_FALSE(sub->next_event().has_value());
        REQUIRE(sub->reader().retry().has_value());
        long final_retry = std::stol(*sub->reader().retry());
        CHECK(final_retry >= kPauseMs);
        CHECK(final_retry <= kPauseMs * 12 / 10);
    }
    // A stream of another topic goes on.
    std::string u_id = HubPublisher(server.port()).publish("u", "still here");
    CHECK(id_of(other.next()) == u_id);

    // Published while they were away; then they come back with their ids.
    std::string missed = HubPublisher(server.port()).publish("t", "missed");
    HubSubscriber back(server.port(), "/latest/t", "Last-Event-ID: " + pause_id + "\r\n");
    CHECK(back.head().status == 200);  // not 204: the topic was paused, not ended
    SseEvent replayed = back.next();
    CHECK(id_of(replayed) == missed);
    CHECK(replayed.data == "missed");
    std::string live = HubPublisher(server.port()).publish("t", "live");
    CHECK(id_of(back.next()) == live);
}

TEST_CASE("ending: close=1 without retry= ends the streams with their usual retry hint") {
    ServerProcess server({"--no-demo", "--retry-ms", "1000"});
    std::vector<std::unique_ptr<HubSubscriber>> subs;
    for (int i = 0; i < 5; ++i) subs.push_back(std::make_unique<HubSubscriber>(server.port(), "/latest/t"));
    Response answer = post(server.port(), "topic=t&close=1", "go");
    REQUIRE(answer.status == 200);
    CHECK(json_field(answer.body, "closed") == "5");
    for (auto& sub : subs) {
        CHECK(sub->next().data == "go");
        CHECK_FALSE(sub->next_event().has_value());
        long final_retry = std::stol(*sub->reader().retry());
        CHECK(final_retry >= 800);
        CHECK(final_retry <= 1200);
    }
    // A pause is not an ending: a new stream of t is served.
    HubSubscriber again(server.port(), "/latest/t");
    CHECK(again.head().status == 200);
}
