// State on first connect: ?last=N sends the newest N held events of each
// of the stream's topics (or of each topic its patterns match), merged in
// id order, then live events; a Last-Event-ID, when present, wins.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/hub_client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

using namespace sse::test;

TEST_CASE("last: ?last=N gives a new stream the newest N events of each topic, in id order, then live ones") {
    ServerProcess server({"--no-demo", "--history", "50"});
    HubPublisher publisher(server.port());
    std::vector<std::string> ids;  // weather: 0 2 4, news: 1 3 5
    for (int i = 0; i < 6; ++i) ids.push_back(publisher.publish(i % 2 ? "news" : "weather", std::to_string(i)));
    std::string stock = publisher.publish("stock", "6");

    HubSubscriber one(server.port(), "/latest/weather?last=1");
    CHECK(id_of(one.next()) == ids[4]);
    // A widget per topic is filled at once: the newest of each.
    HubSubscriber widgets(server.port(), "/latest?type=news,weather,stock&last=1");
    for (const std::string& id : {ids[4], ids[5], stock}) CHECK(id_of(widgets.next()) == id);
    HubSubscriber merged(server.port(), "/latest?type=news,weather&last=2");
    for (int i = 2; i < 6; ++i) CHECK(id_of(merged.next()) == ids[i]);
    HubSubscriber pattern(server.port(), "/latest/*?last=1");
    for (const std::string& id : {ids[4], ids[5], stock}) CHECK(id_of(pattern.next()) == id);
    std::string live = publisher.publish("news", "live");
    CHECK(id_of(merged.next()) == live);
}

TEST_CASE("last: a Last-Event-ID wins: a reconnecting browser gets what it missed, never the last N again") {
    ServerProcess server({"--no-demo"});
    HubPublisher publisher(server.port());
    std::string a = publisher.publish("t", "a");
    std::string b = publisher.publish("t", "b");
    std::string c = publisher.publish("t", "c");
    HubSubscriber by_header(server.port(), "/latest/t?last=3", "Last-Event-ID: " + b + "\r\n");
    CHECK(id_of(by_header.next()) == c);
    HubSubscriber by_query(server.port(), "/latest/t?last=3&lastEventId=" + a);
    CHECK(id_of(by_query.next()) == b);
    CHECK(id_of(by_query.next()) == c);
    std::string d = publisher.publish("t", "d");
    CHECK(id_of(by_header.next()) == d);  // nothing replayed twice in between
}

TEST_CASE("last: a bad N is 400 and subscribes nothing") {
    ServerProcess server({"--no-demo", "--history", "10"});
    for (const std::string n : {"0", "-1", "abc", "", "11", "1.5", "99999999999999999999999"}) {
        CAPTURE(n);
        Response answer = fetch(server.port(), make_request("GET", "/latest/t?last=" + n));
        CHECK(answer.status == 400);
        CHECK(answer.body.find("last=") != std::string::npos);
    }
    CHECK(fetch(server.port(), make_request("GET", "/topics/t")).status == 404);  // nobody subscribed
    HubSubscriber at_limit(server.port(), "/latest/t?last=10");
    CHECK(at_limit.head().status == 200);
}
