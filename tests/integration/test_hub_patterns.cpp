// Pattern streams against the real server: /latest/<pattern> and patterns
// in ?type=, named events from every matching topic (new ones included),
// one delivery per event, resume with Last-Event-ID, and bad patterns.
#include <doctest/doctest.h>

#include <string>

#include "../support/client.h"
#include "../support/hub_client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

using namespace sse::test;

TEST_CASE("patterns: /latest/user.42.* streams every matching topic, named by its topic") {
    ServerProcess server({"--no-demo"});
    HubSubscriber sub(server.port(), "/latest/user.42.*");
    REQUIRE(sub.head().status == 200);
    HubPublisher publisher(server.port());
    std::string orders = publisher.publish("user.42.orders", "o");
    publisher.publish("user.7.orders", "not mine");
    publisher.publish("user.42.a.b", "too deep for *");
    std::string cart = publisher.publish("user.42.cart", "c");  // first published after the stream began
    SseEvent first = sub.next();
    CHECK(id_of(first) == orders);
    CHECK(first.type == "user.42.orders");
    SseEvent second = sub.next();
    CHECK(id_of(second) == cart);
    CHECK(second.type == "user.42.cart");
}

TEST_CASE("patterns: ?type= mixes names and patterns, and each event arrives once") {
    ServerProcess server({"--no-demo"});
    HubSubscriber sub(server.port(), "/latest?type=user.42.**,news,user.42.orders");
    HubPublisher publisher(server.port());
    std::string a = publisher.publish("user.42.orders", "matched twice, sent once");
    std::string b = publisher.publish("news", "by name");
    std::string c = publisher.publish("user.42.x.y", "by **");
    publisher.publish("weather", "not mine");
    std::string sentinel = publisher.publish("news", "sentinel");
    for (const std::string& id : {a, b, c, sentinel}) CHECK(id_of(sub.next()) == id);
}

TEST_CASE("patterns: a pattern stream resumes with Last-Event-ID across all matching topics") {
    ServerProcess server({"--no-demo"});
    HubPublisher publisher(server.port());
    std::string seen = publisher.publish("user.42.a", "seen");
    std::string missed1 = publisher.publish("user.42.b", "missed 1");
    publisher.publish("user.9.b", "not mine");
    std::string missed2 = publisher.publish("user.42.c", "missed 2");
    HubSubscriber sub(server.port(), "/latest/user.42.*", "Last-Event-ID: " + seen + "\r\n");
    SseEvent first = sub.next();
    CHECK(id_of(first) == missed1);
    CHECK(first.type == "user.42.b");
    CHECK(id_of(sub.next()) == missed2);
    std::string live = publisher.publish("user.42.d", "live");
    CHECK(id_of(sub.next()) == live);
}

TEST_CASE("patterns: bad patterns and too many of them are 400") {
    ServerProcess server({"--no-demo"});
    for (const std::string target : {"/latest/user.**.x", "/latest/user.4*", "/latest?type=a,**.b",
                                     "/latest?type=a,b*"}) {
        CAPTURE(target);
        Response answer = fetch(server.port(), make_request("GET", target));
        CHECK(answer.status == 400);
        CHECK(answer.body.find("pattern") != std::string::npos);
    }
    std::string many = "/latest?type=";
    for (int i = 0; i < 17; ++i) many += (i ? "," : "") + std::string("p") + std::to_string(i) + ".*";
    Response too_many = fetch(server.port(), make_request("GET", many));
    CHECK(too_many.status == 400);
    CHECK(too_many.body.find("too many patterns") != std::string::npos);
}
