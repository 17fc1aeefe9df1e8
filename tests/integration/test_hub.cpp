// The hub's delivery against the real server: publish and receive, the wire
// form of an event (ids, names, multi-line data, bodies that try to forge
// fields), multi-topic streams, ending a topic, CORS, retry and heartbeats.
// Replay lives in test_hub_replay.cpp, limits in test_hub_limits.cpp.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/hub_client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

using namespace sse::test;

namespace {

bool has_line_starting(const SseEvent& event, const std::string& prefix) {
    return std::any_of(event.lines.begin(), event.lines.end(),
                       [&](const std::string& line) { return line.starts_with(prefix); });
}

std::vector<std::string> lines_starting(const SseEvent& event, const std::string& prefix) {
    std::vector<std::string> found;
    for (const std::string& line : event.lines)
        if (line.starts_with(prefix)) found.push_back(line);
    return found;
}

// True when any header's name begins with "Access-Control-" (in any case).
bool has_cors_header(const Response& response) {
    return std::any_of(response.headers.begin(), response.headers.end(), [](const auto& header) {
        std::string name = header.first;
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return name.starts_with("access-control-");
    });
}

}  // namespace

TEST_CASE("hub: a publish reaches /latest/<topic> with its id, named only when the publisher names it") {
    ServerProcess server({"--no-demo"});
    HubSubscriber sub(server.port(), "/latest/t");
    REQUIRE(sub.head().status == 200);
    CHECK(sub.head().header("Content-Type") == "text/event-stream");
    HubPublisher publisher(server.port());

    Response answer = publisher.post("t", "body");
    REQUIRE(answer.status == 200);
    CHECK(answer.header("Content-Type") == "application/json");
    std::string id = json_field(answer.body, "id");
    CHECK_NOTHROW(event_id_key(id));
    CHECK(json_field(answer.body, "queued") == "1");

    SseEvent plain = sub.next();
    CHECK(id_of(plain) == id);
    CHECK(plain.data == "body");
    CHECK(plain.type.empty());
    CHECK_FALSE(has_line_starting(plain, "event"));

    std::string named_id = publisher.publish("t", "alarm", "alert");
    SseEvent named = sub.next();
    CHECK(id_of(named) == named_id);
    CHECK(named.type == "alert");
    CHECK(lines_starting(named, "event") == std::vector<std::string>{"event: alert"});
    CHECK(event_id_key(id) < event_id_key(named_id));
}

TEST_CASE("hub: each line of a multi-line body becomes one data: line, whatever its line ending") {
    ServerProcess server({"--no-demo"});
    HubSubscriber sub(server.port(), "/latest/t");
    HubPublisher publisher(server.port());
    std::string id = publisher.publish("t", "a\nb\r\nc\rd");

    SseEvent event = sub.next();
    CHECK(id_of(event) == id);
    CHECK(event.data == "a\nb\nc\nd");
    CHECK(lines_starting(event, "data") == std::vector<std::string>{"data: a", "data: b", "data: c", "data: d"});
}

TEST_CASE("hub: a body cannot forge a second event, an id or a name") {
    ServerProcess server({"--no-demo"});
    HubSubscriber sub(server.port(), "/latest/t");
    HubPublisher publisher(server.port());
    const std::string forged = "\n\nid: 1\nevent: evil\n\ndata: x";
    std::string id = publisher.publish("t", forged);
    std::string next_id = publisher.publish("t", "next");

    SseEvent event = sub.next();
    CHECK(id_of(event) == id);
    CHECK(event.type.empty());
    CHECK(event.data == forged);
    CHECK(lines_starting(event, "id") == std::vector<std::string>{"id: " + id});
    CHECK_FALSE(has_line_starting(event, "event"));
    for (const std::string& line : event.lines) {
        CAPTURE(line);
        CHECK((line.starts_with("data:") || line == "id: " + id));
    }
    // The very next event is the next publish: nothing was split off.
    SseEvent after = sub.next();
    CHECK(id_of(after) == next_id);
    CHECK(after.data == "next");
}

TEST_CASE("hub: /latest?type= merges duplicates and names each event by publisher name or topic") {
    ServerProcess server({"--no-demo"});
    HubSubscriber multi(server.port(), "/latest?type=news,weather,news");
    REQUIRE(multi.head().status == 200);
    HubSubscriber news_only(server.port(), "/latest/news");
    HubPublisher publisher(server.port());

    Response n1 = publisher.post("news", "n1");
    CHECK(json_field(n1.body, "queued") == "2");  // two streams; the duplicate adds none
    Response w1 = publisher.post("weather", "w1");
    CHECK(json_field(w1.body, "queued") == "1");
    std::string w2 = publisher.publish("weather", "w2", "storm");
    std::string n2 = publisher.publish("news", "n2", "flash");

    SseEvent event = multi.next();
    CHECK(id_of(event) == json_field(n1.body, "id"));
    CHECK(event.type == "news");
    CHECK(lines_starting(event, "event") == std::vector<std::string>{"event: news"});
    event = multi.next();
    CHECK(id_of(event) == json_field(w1.body, "id"));
    CHECK(event.type == "weather");
    CHECK(event.data == "w1");
    event = multi.next();
    CHECK(id_of(event) == w2);
    CHECK(event.type == "storm");
    event = multi.next();
    CHECK(id_of(event) == n2);
    CHECK(event.type == "flash");

    // The single-topic stream: no name when none was given, no weather.
    event = news_only.next();
    CHECK(event.data == "n1");
    CHECK_FALSE(has_line_starting(event, "event"));
    event = news_only.next();
    CHECK(id_of(event) == n2);
    CHECK(event.type == "flash");
}

TEST_CASE("hub: DELETE closes the topic's streams, GET answers 204 until the topic is published again") {
    ServerProcess server({"--no-demo"});
    HubSubscriber single(server.port(), "/latest/t");
    HubSubscriber other_single(server.port(), "/latest/t");
    HubSubscriber both(server.port(), "/latest?type=t,u");  // u lives on: this stream stays
    HubPublisher publisher(server.port());

    Response ended = fetch(server.port(), make_request("DELETE", "/publish?topic=t"));
    CHECK(ended.status == 200);
    CHECK(ended.header("Content-Type") == "application/json");
    CHECK(json_field(ended.body, "ended_streams") == "2");
    for (HubSubscriber* sub : {&single, &other_single}) {
        CHECK(sub->conn().wait_for_close());
        CHECK_FALSE(sub->conn().was_reset());
        CHECK_FALSE(sub->next_event());  // closed between events, none cut short
    }

    std::string still = publisher.publish("u", "still");
    CHECK(id_of(both.next()) == still);

    Response gone = fetch(server.port(), make_request("GET", "/latest/t"));
    CHECK(gone.status == 204);
    CHECK(gone.body.empty());
    CHECK(fetch(server.port(), make_request("GET", "/latest?type=t")).status == 204);

    std::string back = publisher.publish("t", "back");
    HubSubscriber again(server.port(), "/latest/t");
    CHECK(again.head().status == 200);
    SseEvent event = both.next();  // the surviving stream hears t again too
    CHECK(id_of(event) == back);
    CHECK(event.type == "t");
    std::string live = publisher.publish("t", "live");
    CHECK(id_of(again.next()) == live);
}

TEST_CASE("hub: CORS answers an allowed origin and gives a disallowed one no Access-Control header") {
    const std::string allowed = "Origin: http://allowed.example\r\n";
    const std::string evil = "Origin: http://evil.example\r\n";
    ServerProcess server({"--no-demo", "--cors-origin", "http://allowed.example"});

    HubSubscriber stream(server.port(), "/latest/t", allowed);
    REQUIRE(stream.head().status == 200);
    CHECK(stream.head().header("Access-Control-Allow-Origin") == "http://allowed.example");
    CHECK(stream.head().header("Access-Control-Allow-Credentials") == "true");
    CHECK(stream.head().header("Vary").find("Origin") != std::string::npos);

    HubSubscriber refused(server.port(), "/latest/t", evil);
    REQUIRE(refused.head().status == 200);  // same-origin rules are the browser's; the stream is served
    CHECK_FALSE(has_cors_header(refused.head()));

    const std::string post_preflight = "Access-Control-Request-Method: POST\r\n";
    Response preflight = fetch(server.port(), make_request("OPTIONS", "/publish", allowed + post_preflight));
    CHECK(preflight.status == 204);
    CHECK(preflight.header("Access-Control-Allow-Origin") == "http://allowed.example");
    CHECK(preflight.header("Access-Control-Allow-Methods").find("POST") != std::string::npos);
    CHECK(preflight.header("Access-Control-Allow-Headers").find("Last-Event-ID") != std::string::npos);

    Response stream_preflight = fetch(server.port(), make_request("OPTIONS", "/latest/t",
                                                                  allowed + "Access-Control-Request-Method: GET\r\n"));
    CHECK(stream_preflight.status == 204);
    CHECK(stream_preflight.header("Access-Control-Allow-Methods").find("GET") != std::string::npos);

    Response evil_preflight = fetch(server.port(), make_request("OPTIONS", "/publish", evil + post_preflight));
    CHECK_FALSE(has_cors_header(evil_preflight));
}

TEST_CASE("hub: an idle stream gets a heartbeat comment and stays usable") {
    ServerProcess server({"--no-demo", "--heartbeat-ms", "200"});
    HubSubscriber sub(server.port(), "/latest/quiet");
    auto has_comment = [](const std::string& in) { return in.find("\n:") != std::string::npos; };
    REQUIRE(sub.conn().receive_until(has_comment, deadline_in(kGuardTimeout)));

    std::string id = HubPublisher(server.port()).publish("quiet", "x");
    SseEvent event = sub.next();
    CHECK(sub.reader().comment_count() >= 1);
    CHECK(id_of(event) == id);
    CHECK(event.data == "x");
}

TEST_CASE("hub: every stream begins with retry: --retry-ms, jittered by at most 20%") {
    struct Case {
        std::vector<std::string> args;
        long low, high;
    };
    for (const Case& c : {Case{{"--no-demo"}, 2400, 3600}, Case{{"--no-demo", "--retry-ms", "1000"}, 800, 1200}}) {
        CAPTURE(c.low);
        ServerProcess server(c.args);
        std::set<long> seen;
        for (int i = 0; i < 10; ++i) {
            HubSubscriber sub(server.port(), i % 2 ? "/latest/t" : "/latest?type=t,u");
            long retry = sub.first_retry_ms();
            CAPTURE(retry);
            CHECK(retry >= c.low);
            CHECK(retry <= c.high);
            seen.insert(retry);
        }
        // Jitter per connection: ten equal values would mean none (by chance,
        // about once in 10^27 runs).
        CHECK(seen.size() > 1);
    }
}
