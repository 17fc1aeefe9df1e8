// One event, several topics: POST /publish?topic=a&topic=b publishes one
// event with one id to each; a stream following more than one receives it
// once, and so does a replay after Last-Event-ID.
#include <doctest/doctest.h>

#include <string>

#include "../support/client.h"
#include "../support/hub_client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

using namespace sse::test;

namespace {

Response post(std::uint16_t port, const std::string& query, const std::string& body) {
    return fetch(port, make_request("POST", "/publish?" + query,
                                    "Content-Length: " + std::to_string(body.size()) + "\r\n") + body);
}

}  // namespace

TEST_CASE("multi-publish: one id to every topic, once to a stream that follows several") {
    ServerProcess server({"--no-demo"});
    HubSubscriber on_a(server.port(), "/latest/a");
    HubSubscriber on_b(server.port(), "/latest/b");
    HubSubscriber on_both(server.port(), "/latest?type=a,b");
    Response answer = post(server.port(), "topic=a&topic=b&topic=a", "to both");
    REQUIRE(answer.status == 200);
    std::string id = json_field(answer.body, "id");
    CHECK(json_field(answer.body, "queued") == "3");
    for (HubSubscriber* sub : {&on_a, &on_b, &on_both}) CHECK(id_of(sub->next()) == id);
    // The next event on the stream of both is the sentinel: the first came once.
    std::string sentinel = HubPublisher(server.port()).publish("a", "sentinel");
    CHECK(id_of(on_both.next()) == sentinel);

    HubSubscriber resumed(server.port(), "/latest?type=a,b", "Last-Event-ID: 0-0\r\n");
    CHECK(id_of(resumed.next()) == id);
    CHECK(id_of(resumed.next()) == sentinel);
}

TEST_CASE("multi-publish: a bad topic among them, or too many, is 400 and publishes nothing") {
    ServerProcess server({"--no-demo"});
    HubSubscriber sub(server.port(), "/latest/a");
    CHECK(post(server.port(), "topic=a&topic=bad%20name", "no").status == 400);
    std::string many;
    for (int i = 0; i < 17; ++i) many += (i ? "&" : "") + std::string("topic=t") + std::to_string(i);
    Response too_many = post(server.port(), many + "&topic=a", "no");
    CHECK(too_many.status == 400);
    CHECK(too_many.body.find("too many topics") != std::string::npos);
    std::string sentinel = HubPublisher(server.port()).publish("a", "sentinel");
    CHECK(id_of(sub.next()) == sentinel);
}
