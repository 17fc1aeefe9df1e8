// Periodic behaviour over several periods, alone and in company: heartbeats,
// the stream age limit, the idle deadline of a reused keep-alive connection,
// /random's ticks and the demo feeds. One occurrence of a periodic thing
// proves nothing (the first heartbeat came, then no other, and no test saw
// it), so each test waits for at least four periods, with one, two and many
// clients at once.
//
// No test asserts a duration: each waits, under a guard deadline, until the
// count it expects has arrived. A guard is generous (many periods long), so
// a slow machine only makes a test slower; a broken period makes it fail.
#include <doctest/doctest.h>

#include <poll.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../support/client.h"
#include "../support/hub_client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

using namespace sse::test;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// Periods each periodic behaviour must show, at least.
constexpr int kPeriods = 5;
// How many clients "many" is here.
constexpr int kMany = 100;

std::size_t count_of(const std::string& haystack, std::string_view needle) {
    std::size_t count = 0;
    for (std::size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++count;
    return count;
}

std::size_t heartbeats(Connection& conn) { return count_of(conn.input(), ": heartbeat\n\n"); }

// Opens `n` streams of `topic`, each registered (its first retry: arrived).
std::vector<std::unique_ptr<HubSubscriber>> subscribe_all(std::uint16_t port, int n, const std::string& target) {
    std::vector<std::unique_ptr<HubSubscriber>> subs;
    for (int i = 0; i < n; ++i) subs.push_back(std::make_unique<HubSubscriber>(port, target));
    return subs;
}

// Reads every stream until each holds `wanted` heartbeats; false if one
// closes first. A stream that stopped getting them fails at the guard.
bool each_gets_heartbeats(std::vector<std::unique_ptr<HubSubscriber>>& subs, std::size_t wanted,
                          Deadline guard) {
    for (auto& sub : subs) {
        if (!sub->conn().receive_until([&](const std::string&) { return heartbeats(sub->conn()) >= wanted; },
                                       guard))
            return false;
    }
    return true;
}

}  // namespace

TEST_CASE("periodic: every quiet stream gets a heartbeat every period, alone, in two and in many") {
    ServerProcess server({"--no-demo", "--heartbeat-ms", "100"});
    for (int streams : {1, 2, kMany}) {
        CAPTURE(streams);
        auto subs = subscribe_all(server.port(), streams, "/latest/quiet");
        CHECK(each_gets_heartbeats(subs, kPeriods, deadline_in(kGuardTimeout)));
        // The stream is still a stream: an event after the heartbeats arrives.
        std::string id = HubPublisher(server.port()).publish("quiet", "after");
        for (auto& sub : subs) CHECK(id_of(sub->next()) == id);
    }
}

TEST_CASE("periodic: quiet streams keep their heartbeats beside busy ones") {
    ServerProcess server({"--no-demo", "--heartbeat-ms", "200"});
    for (int quiet_count : {1, 2, 20}) {
        CAPTURE(quiet_count);
        auto quiet = subscribe_all(server.port(), quiet_count, "/latest/quiet");
        auto busy = subscribe_all(server.port(), 2, "/latest/busy");
        HubPublisher publisher(server.port());
        int published = 0;
        const Deadline guard = deadline_in(kGuardTimeout);
        auto all_quiet_done = [&] {
            for (auto& sub : quiet)
                if (heartbeats(sub->conn()) < static_cast<std::size_t>(kPeriods)) return false;
            return true;
        };
        while (!all_quiet_done() && Clock::now() < guard) {
            publisher.publish("busy", std::to_string(published++));
            // Paces the publisher (about one event per 10 ms) while reading
            // whatever the quiet streams have received meanwhile.
            ::poll(nullptr, 0, 10);
            for (auto& sub : quiet)
                while (sub->conn().readable_now() && sub->conn().receive(guard)) {
                }
        }
        CHECK(all_quiet_done());
        // The busy streams got every event, in order.
        for (auto& sub : busy) {
            for (int i = 0; i < published; ++i) REQUIRE(sub->next().data == std::to_string(i));
        }
        CHECK(published > 0);
    }
}

TEST_CASE("periodic: --max-stream-age ends every stream each period; each comes back and resumes") {
    ServerProcess server({"--no-demo", "--max-stream-age", "1"});
    HubPublisher publisher(server.port());
    for (int clients : {1, 2, 10}) {
        CAPTURE(clients);
        std::vector<std::string> last_id(clients);
        std::vector<int> received(clients, 0);
        int published = 0;
        for (int period = 0; period < 4; ++period) {
            CAPTURE(period);
            std::vector<std::unique_ptr<HubSubscriber>> subs;
            for (int c = 0; c < clients; ++c) {
                std::string resume = last_id[c].empty() ? "" : "Last-Event-ID: " + last_id[c] + "\r\n";
                subs.push_back(std::make_unique<HubSubscriber>(server.port(), "/latest/aged", resume));
            }
            publisher.publish("aged", std::to_string(published++));
            for (int c = 0; c < clients; ++c) {
                // What this client missed since its last stream, then the new
                // event; then the age limit ends the stream with a retry hint.
                while (std::optional<SseEvent> event = subs[c]->next_event(deadline_in(kGuardTimeout))) {
                    CHECK(event->data == std::to_string(received[c]));
                    ++received[c];
                    last_id[c] = id_of(*event);
                }
                CHECK(subs[c]->conn().peer_closed());
                CHECK(subs[c]->reader().retry().has_value());
            }
        }
        for (int count : received) CHECK(count == published);
    }
}

TEST_CASE("periodic: a reused keep-alive connection stays open across many idle periods, then closes") {
    ServerProcess server({"--no-demo", "--idle-timeout-ms", "500"});
    for (int clients : {1, 2, 10}) {
        CAPTURE(clients);
        std::vector<Connection> conns;
        for (int c = 0; c < clients; ++c) conns.push_back(Connection::open(server.port()));
        // A request every 50 ms for five idle periods: each one moves the
        // idle deadline, so none of the connections may close.
        const auto until = Clock::now() + milliseconds(kPeriods * 500);
        int requests = 0;
        while (Clock::now() < until) {
            for (Connection& conn : conns) {
                Response response = sse::test::exchange(conn, make_request("GET", "/healthz"));
                REQUIRE(response.status == 200);
                REQUIRE(response.header("Connection") != "close");
            }
            ++requests;
            std::this_thread::sleep_for(milliseconds(50));
        }
        CHECK(requests >= 10);
        // Then quiet: the idle deadline closes each of them.
        for (Connection& conn : conns) CHECK(conn.wait_for_close());
    }
}

TEST_CASE("periodic: /random keeps ticking on one, two and many streams") {
    ServerProcess server({"--no-demo"});
    std::vector<Connection> conns;
    for (int c = 0; c < 8; ++c) {
        conns.push_back(Connection::open(server.port()));
        REQUIRE(sse::test::exchange(conns.back(), make_request("GET", "/random")).status == 200);
    }
    // Ticks come 0-3 s apart: four ticks on each, all running at once.
    const Deadline guard = deadline_in(seconds(40));
    for (Connection& conn : conns) {
        SseReader reader(conn);
        for (int tick = 0; tick < 4; ++tick) {
            std::optional<SseEvent> event = reader.next_event(guard);
            REQUIRE(event.has_value());
            CHECK(!event->data.empty());
        }
    }
}

TEST_CASE("periodic: each demo feed keeps publishing, seen by two streams") {
    ServerProcess server({"--heartbeat-ms", "60000"});
    auto subs = subscribe_all(server.port(), 2, "/latest?type=news,weather,stock");
    // Each feed publishes every 1-5 s: four events of each topic.
    const Deadline guard = deadline_in(seconds(60));
    for (auto& sub : subs) {
        std::map<std::string, int> per_topic;
        while (per_topic["news"] < 4 || per_topic["weather"] < 4 || per_topic["stock"] < 4) {
            std::optional<SseEvent> event = sub->next_event(guard);
            REQUIRE(event.has_value());
            ++per_topic[event->type];
        }
        CHECK(per_topic.size() == 3);
    }
}
