// The pub/sub hub against the real server: publish and receive, named
// events on multi-topic streams, exact Last-Event-ID replay, reset after
// eviction, 204 after DELETE, authorization and limits, CORS, heartbeats.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

using namespace sse::test;

namespace {

// A subscriber: the response head has been read, so the server has
// registered the subscription before any publish that follows.
struct Subscriber {
    Connection conn;
    Response head;
    SseReader reader;

    Subscriber(std::uint16_t port, const std::string& target, const std::string& extra_headers = "")
        : conn(Connection::open(port)),
          head(exchange(conn, make_request("GET", target, extra_headers))),
          reader(conn) {}

    SseEvent next() {
        std::optional<SseEvent> event = reader.next_event(deadline_in(kGuardTimeout));
        REQUIRE(event);
        return *event;
    }
};

Response post(std::uint16_t port, const std::string& target, const std::string& body,
              const std::string& extra_headers = "") {
    return fetch(port, make_request("POST", target,
                                    extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n") +
                           body);
}

// The "id" of a publish answer such as {"id":"17-0","queued":1}.
std::string id_of(const Response& answer) {
    std::size_t start = answer.body.find("\"id\":\"") + 6;
    return answer.body.substr(start, answer.body.find('"', start) - start);
}

std::string publish(std::uint16_t port, const std::string& topic, const std::string& data,
                    const std::string& event = "") {
    Response answer = post(port, "/publish?topic=" + topic + (event.empty() ? "" : "&event=" + event), data);
    REQUIRE(answer.status == 200);
    return id_of(answer);
}

}  // namespace

TEST_CASE("pubsub: a published event reaches its topic's stream with its id") {
    ServerProcess server({"--no-demo"});
    Subscriber sub(server.port(), "/latest/news");
    REQUIRE(sub.head.status == 200);
    CHECK(sub.head.header("Content-Type") == "text/event-stream");

    Response answer = post(server.port(), "/publish?topic=news", "hello");
    REQUIRE(answer.status == 200);
    CHECK(answer.header("Content-Type") == "application/json");
    CHECK(answer.body.find("\"queued\":1") != std::string::npos);

    SseEvent event = sub.next();
    CHECK(event.id == id_of(answer));
    CHECK(event.data == "hello");
    CHECK(event.type.empty());  // no name given: a plain "message"

    publish(server.port(), "news", "named", "alert");
    CHECK(sub.next().type == "alert");
}

TEST_CASE("pubsub: a body cannot forge fields or a second event") {
    ServerProcess server({"--no-demo"});
    Subscriber sub(server.port(), "/latest/t");
    std::string id = publish(server.port(), "t", "a\nb\r\nc\rd\n\nid: 1\nevent: evil\n\ndata: x");
    publish(server.port(), "t", "next");
    SseEvent first = sub.next();
    CHECK(first.id == id);
    CHECK(first.type.empty());
    CHECK(first.data == "a\nb\nc\nd\n\nid: 1\nevent: evil\n\ndata: x");
    CHECK(sub.next().data == "next");  // the very next event is the next publish
}

TEST_CASE("pubsub: one stream for several topics names every event") {
    ServerProcess server({"--no-demo"});
    Subscriber sub(server.port(), "/latest?type=news,weather,news");
    REQUIRE(sub.head.status == 200);
    Response answer = post(server.port(), "/publish?topic=news", "n1");
    CHECK(answer.body.find("\"queued\":1") != std::string::npos);  // merged duplicates: one stream
    publish(server.port(), "weather", "w1");
    publish(server.port(), "weather", "w2", "storm");

    SseEvent n1 = sub.next(), w1 = sub.next(), w2 = sub.next();
    CHECK(n1.type == "news");
    CHECK(n1.data == "n1");
    CHECK(w1.type == "weather");
    CHECK(w2.type == "storm");
}

TEST_CASE("pubsub: Last-Event-ID replays exactly what was missed, then live") {
    ServerProcess server({"--no-demo"});
    std::vector<std::string> ids;
    for (int i = 1; i <= 20; ++i) ids.push_back(publish(server.port(), "r", std::to_string(i)));

    SUBCASE("header") {
        Subscriber sub(server.port(), "/latest/r", "Last-Event-ID: " + ids[9] + "\r\n");
        for (int i = 11; i <= 20; ++i) CHECK(sub.next().data == std::to_string(i));
        publish(server.port(), "r", "21");
        CHECK(sub.next().data == "21");
    }
    SUBCASE("query parameter, for clients that cannot set headers") {
        Subscriber sub(server.port(), "/latest/r?lastEventId=" + ids[17]);
        CHECK(sub.next().data == "19");
        CHECK(sub.next().data == "20");
    }
}

TEST_CASE("pubsub: a multi-topic resume merges its topics in id order") {
    ServerProcess server({"--no-demo"});
    std::string start = publish(server.port(), "a", "a0");
    std::vector<std::string> expected;
    for (int i = 1; i <= 12; ++i) {
        std::string topic = i % 3 == 0 ? "a" : (i % 3 == 1 ? "b" : "c");
        publish(server.port(), topic, topic + std::to_string(i));
        if (topic != "c") expected.push_back(topic + std::to_string(i));
    }
    Subscriber sub(server.port(), "/latest?type=a,b", "Last-Event-ID: " + start + "\r\n");
    for (const std::string& data : expected) CHECK(sub.next().data == data);
}

TEST_CASE("pubsub: a resume from evicted history starts with event: reset") {
    ServerProcess server({"--no-demo", "--history", "5"});
    std::vector<std::string> ids;
    for (int i = 1; i <= 10; ++i) ids.push_back(publish(server.port(), "h", std::to_string(i)));

    Subscriber sub(server.port(), "/latest/h", "Last-Event-ID: " + ids[1] + "\r\n");
    SseEvent reset = sub.next();
    CHECK(reset.type == "reset");
    CHECK(reset.data.find("\"oldest\":\"" + ids[5] + "\"") != std::string::npos);
    CHECK(reset.data.find(ids[1]) == std::string::npos);  // Last-Event-ID is never echoed
    for (int i = 6; i <= 10; ++i) CHECK(sub.next().data == std::to_string(i));

    // A malformed Last-Event-ID counts as absent: no reset, no replay.
    Subscriber fresh(server.port(), "/latest/h", "Last-Event-ID: garbage\r\n");
    publish(server.port(), "h", "live");
    SseEvent live = fresh.next();
    CHECK(live.type.empty());
    CHECK(live.data == "live");
}

TEST_CASE("pubsub: DELETE ends the topic's streams, then GET answers 204 until it is published again") {
    ServerProcess server({"--no-demo"});
    Subscriber sub(server.port(), "/latest/t");
    Response ended = fetch(server.port(), make_request("DELETE", "/publish?topic=t"));
    CHECK(ended.status == 200);
    CHECK(ended.body.find("\"ended_streams\":1") != std::string::npos);
    CHECK(sub.conn.wait_for_close());

    CHECK(fetch(server.port(), make_request("GET", "/latest/t")).status == 204);
    publish(server.port(), "t", "back");
    Subscriber again(server.port(), "/latest/t");
    CHECK(again.head.status == 200);
}

TEST_CASE("pubsub: authorization, size and name rules") {
    SUBCASE("a token is required when configured") {
        ServerProcess server({"--no-demo", "--publish-token", "s3cret"});
        Response none = post(server.port(), "/publish?topic=t", "x");
        CHECK(none.status == 401);
        CHECK(none.header("WWW-Authenticate") == "Bearer");
        CHECK(post(server.port(), "/publish?topic=t", "x", "Authorization: Bearer wrong\r\n").status == 401);
        CHECK(post(server.port(), "/publish?topic=t", "x", "Authorization: Bearer s3cret\r\n").status == 200);
    }
    SUBCASE("limits and names") {
        ServerProcess server({"--no-demo", "--max-event-bytes", "1K"});
        // 413 arrives from the head alone, before any body byte is sent.
        Connection conn = Connection::open(server.port());
        conn.send_all(make_request("POST", "/publish?topic=t", "Content-Length: 5000\r\n"));
        CHECK(read_response(conn).status == 413);

        CHECK(post(server.port(), "/publish?topic=t", "\xff\xfe").status == 400);  // not UTF-8
        CHECK(post(server.port(), "/publish?topic=a/b", "x").status == 400);
        CHECK(post(server.port(), "/publish", "x").status == 400);
        CHECK(post(server.port(), "/publish?topic=" + std::string(65, 'x'), "x").status == 400);
        CHECK(fetch(server.port(), make_request("GET", "/latest/bad%20name")).status == 400);
        std::string many;
        for (int i = 0; i < 65; ++i) many += (i ? "," : "") + std::string("t") + std::to_string(i);
        CHECK(fetch(server.port(), make_request("GET", "/latest?type=" + many)).status == 400);
    }
}

TEST_CASE("pubsub: CORS headers only for an allowed origin") {
    ServerProcess server({"--no-demo", "--cors-origin", "http://allowed.example"});
    Subscriber allowed(server.port(), "/latest/t", "Origin: http://allowed.example\r\n");
    CHECK(allowed.head.header("Access-Control-Allow-Origin") == "http://allowed.example");
    CHECK(allowed.head.header("Access-Control-Allow-Credentials") == "true");
    CHECK(allowed.head.header("Vary") == "Origin");

    Subscriber other(server.port(), "/latest/t", "Origin: http://evil.example\r\n");
    CHECK_FALSE(other.head.has("Access-Control-Allow-Origin"));
    CHECK_FALSE(other.head.has("Access-Control-Allow-Credentials"));

    Response preflight = fetch(server.port(), make_request("OPTIONS", "/publish",
                                                           "Origin: http://allowed.example\r\n"
                                                           "Access-Control-Request-Method: POST\r\n"));
    CHECK(preflight.status == 204);
    CHECK(preflight.header("Access-Control-Allow-Methods").find("POST") != std::string::npos);
    CHECK(preflight.header("Access-Control-Allow-Headers").find("Last-Event-ID") != std::string::npos);
    Response refused = fetch(server.port(), make_request("OPTIONS", "/latest/t", "Origin: http://evil.example\r\n"));
    CHECK_FALSE(refused.has("Access-Control-Allow-Origin"));
}

TEST_CASE("pubsub: every stream starts with a jittered retry, idle ones get heartbeats") {
    ServerProcess server({"--no-demo", "--retry-ms", "1000", "--heartbeat-ms", "100"});
    Subscriber sub(server.port(), "/latest/quiet");
    // The first event after a quiet spell: heartbeats are comments, which
    // the reader counts but does not return as events.
    while (sub.reader.comment_count() == 0) {
        sub.conn.receive(deadline_in(kGuardTimeout));
        if (sub.conn.input().find(": heartbeat") != std::string::npos) break;
    }
    CHECK(sub.conn.input().find(": heartbeat\n\n") != std::string::npos);
    publish(server.port(), "quiet", "x");
    CHECK(sub.next().data == "x");
    REQUIRE(sub.reader.retry());
    int retry = std::stoi(*sub.reader.retry());
    CHECK(retry >= 800);
    CHECK(retry <= 1200);
}

TEST_CASE("pubsub: a topic nobody watches still keeps its history") {
    ServerProcess server({"--no-demo"});
    std::string first = publish(server.port(), "unwatched", "1");
    publish(server.port(), "unwatched", "2");
    publish(server.port(), "unwatched", "3");
    Subscriber sub(server.port(), "/latest/unwatched", "Last-Event-ID: " + first + "\r\n");
    CHECK(sub.next().data == "2");
    CHECK(sub.next().data == "3");
}
