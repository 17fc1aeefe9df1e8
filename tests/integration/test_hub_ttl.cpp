// Events that expire, against the real server: POST /publish?...&ttl=SECONDS
// delivers the event live as usual; once its ttl has passed it is replayed
// to no one (?last=N, Last-Event-ID), and missing it is no gap, while an
// event evicted by --history still is. A bad ttl is 400 and publishes
// nothing. Expiry is awaited under a guard deadline: by the wall clock (the
// expiry instant is known from the event's id), or by polling /topics/<t>.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>

#include "../support/client.h"
#include "../support/hub_client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

using namespace sse::test;

namespace {

// One request on a fresh connection: POST `target` with `body`.
Response post(std::uint16_t port, const std::string& target, const std::string& body) {
    return fetch(port, make_request("POST", target, "Content-Length: " + std::to_string(body.size()) + "\r\n") +
                           body);
}

// Publishes with ?ttl=`seconds`; returns the event's id (throws unless 200).
std::string publish_with_ttl(std::uint16_t port, const std::string& topic, const std::string& body, int seconds) {
    Response answer = post(port, "/publish?topic=" + topic + "&ttl=" + std::to_string(seconds), body);
    std::string id = json_field(answer.body, "id");
    if (answer.status != 200 || id.empty()) throw std::runtime_error("ttl publish answered " + answer.body);
    return id;
}

// Waits until GET /topics/<topic> reports `events` held. Throws at the
// guard deadline: the server never got there.
void wait_until_held(std::uint16_t port, const std::string& topic, const std::string& events) {
    const Deadline deadline = deadline_in(kGuardTimeout);
    while (json_field(fetch(port, make_request("GET", "/topics/" + topic)).body, "events") != events) {
        if (Clock::now() > deadline) throw TimeoutError("/topics/" + topic + " never held " + events + " events");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// Waits until the wall clock (the server's too: same host) reaches `ms`:
// an event published at id time T with ttl=S has expired at T + S*1000.
void wait_for_wall_clock(std::uint64_t ms) {
    const Deadline deadline = deadline_in(kGuardTimeout);
    auto now_ms = [] {
        auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
    };
    while (now_ms() < ms) {
        if (Clock::now() > deadline) throw TimeoutError("the wall clock never reached the expiry");
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

std::string resume_from(const std::string& id) { return "Last-Event-ID: " + id + "\r\n"; }

}  // namespace

TEST_CASE("ttl: a bad ttl is 400 and publishes nothing") {
    ServerProcess server({"--no-demo"});
    for (const std::string ttl : {"0", "-1", "abc", "", "86401", "1.5", "1s", "%2B1", "99999999999999999999"}) {
        CAPTURE(ttl);
        Response answer = post(server.port(), "/publish?topic=t&ttl=" + ttl, "x");
        CHECK(answer.status == 400);
        CHECK(answer.body.find("ttl=") != std::string::npos);
    }
    CHECK(fetch(server.port(), make_request("GET", "/topics/t")).status == 404);  // nothing held
    CHECK(post(server.port(), "/publish?topic=t&ttl=86400", "x").status == 200);  // kMaxEventTtlSeconds
}

TEST_CASE("ttl: an event is delivered live, then once expired replayed to no one, with no reset") {
    ServerProcess server({"--no-demo"});
    HubPublisher publisher(server.port());
    std::string kept = publisher.publish("t", "kept");
    HubSubscriber live(server.port(), "/latest/t");
    std::string brief = publish_with_ttl(server.port(), "t", "brief", 1);
    SseEvent delivered = live.next();
    CHECK(id_of(delivered) == brief);
    CHECK(delivered.data == "brief");
    CHECK(json_field(fetch(server.port(), make_request("GET", "/topics/t")).body, "events") == "2");

    // Nothing else is asked of the server meanwhile, so the streams below
    // must leave the expired event out by themselves.
    wait_for_wall_clock(event_id_key(brief).first + 1000);
    HubSubscriber newest(server.port(), "/latest/t?last=5");
    HubSubscriber resumed(server.port(), "/latest/t", resume_from(kept));
    // Whatever arrives before the sentinel is all a stream was given.
    std::string sentinel = publisher.publish("t", "sentinel");
    CHECK(newest.next().data == "kept");
    CHECK(id_of(newest.next()) == sentinel);
    SseEvent first = resumed.next();
    CHECK(first.type == "");  // not a reset
    CHECK(id_of(first) == sentinel);
    CHECK(id_of(live.next()) == sentinel);
    CHECK(json_field(fetch(server.port(), make_request("GET", "/topics/t")).body, "events") == "2");  // kept, sentinel
}

TEST_CASE("ttl: an event evicted by --history is still a reset when an expired one is missing too") {
    ServerProcess server({"--no-demo", "--history", "2"});
    HubPublisher publisher(server.port());
    std::string seen = publisher.publish("t", "seen");
    std::string evicted = publisher.publish("t", "evicted");
    std::string kept = publisher.publish("t", "kept");  // pushes out "seen"
    publish_with_ttl(server.port(), "t", "brief", 1);   // pushes out "evicted"
    wait_until_held(server.port(), "t", "1");

    HubSubscriber after_seen(server.port(), "/latest/t", resume_from(seen));
    SseEvent reset = after_seen.next();
    CHECK(reset.type == "reset");
    CHECK(json_field(reset.data, "oldest") == kept);
    CHECK(id_of(after_seen.next()) == kept);

    HubSubscriber after_evicted(server.port(), "/latest/t", resume_from(evicted));
    std::string sentinel = publisher.publish("t", "sentinel");
    SseEvent first = after_evicted.next();
    CHECK(first.type == "");  // only the expired one and "kept" are missing
    CHECK(id_of(first) == kept);
    CHECK(id_of(after_evicted.next()) == sentinel);
}
