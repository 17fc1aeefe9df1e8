// GET /random: an endless event stream of random integers, one every 0-3 s.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

using namespace sse::test;
using namespace std::chrono_literals;

namespace {

// The spec: each stream sends its next event after a pause of 0-3 s.
constexpr auto kMaxPause = 3s;
// Waiting for one event gives up after this; it only stops a hung test.
constexpr auto kStreamGuard = 15s;

bool all_digits(const std::string& text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
        return std::isdigit(c) != 0;
    });
}

// Opens a connection, requests /random and checks the 200 head; the stream
// itself is left in the returned connection's input.
Connection open_random_stream(std::uint16_t port) {
    Connection conn = Connection::open(port);
    Response head = exchange(conn, make_request("GET", "/random"));
    REQUIRE(head.status == 200);
    return conn;
}

// Checks that `event` is exactly one "data: N" line with 1 <= N <= 1000,
// allowing a "retry: N" line in the stream's first block.
void check_random_event(const SseEvent& event, bool first_block) {
    INFO("event lines: " << [&] {
        std::string joined;
        for (const auto& line : event.lines) joined += "[" + line + "] ";
        return joined;
    }());
    std::vector<std::string> lines = event.lines;
    if (first_block && !lines.empty() && lines.front().starts_with("retry: ")) {
        CHECK(all_digits(lines.front().substr(7)));
        lines.erase(lines.begin());
    }
    REQUIRE(lines.size() == 1);
    CHECK(lines.front() == "data: " + event.data);
    CHECK(event.type.empty());
    REQUIRE(all_digits(event.data));
    int value = std::stoi(event.data);
    CHECK(value >= 1);
    CHECK(value <= 1000);
}

}  // namespace

TEST_CASE("GET /random answers 200 with event-stream headers and no length") {
    ServerProcess server;
    Connection conn = Connection::open(server.port());
    Response head = exchange(conn, make_request("GET", "/random"));

    CHECK(head.status == 200);
    CHECK(head.header("Content-Type") == "text/event-stream");
    CHECK(head.header("Cache-Control") == "no-cache, no-transform");
    CHECK(head.header("Connection") == "keep-alive");
    CHECK(head.header("X-Accel-Buffering") == "no");
    CHECK_FALSE(head.has("Content-Length"));
}

TEST_CASE("GET /random streams well-formed events with values from 1 to 1000") {
    ServerProcess server;
    Connection conn = open_random_stream(server.port());
    SseReader reader(conn);
    const Deadline deadline = deadline_in(kStreamGuard);

    for (int i = 0; i < 2; ++i) {
        CAPTURE(i);
        std::optional<SseEvent> event = reader.next_event(deadline);
        REQUIRE(event.has_value());
        check_random_event(*event, i == 0);
    }
    if (reader.retry()) {
        CHECK(all_digits(*reader.retry()));
    }
}

TEST_CASE("a client closing mid-stream leaves the server serving") {
    ServerProcess server;
    {
        Connection conn = open_random_stream(server.port());
        SseReader reader(conn);
        REQUIRE(reader.next_event(deadline_in(kStreamGuard)).has_value());
    }  // closed here, with the stream still running

    Response again = fetch(server.port(), make_request("GET", "/random"));
    CHECK(again.status == 200);
    CHECK(server.is_running());
}

TEST_CASE("50 clients closing abruptly (FIN, RST, before the answer) leave the server healthy") {
    ServerProcess server;
    constexpr int kClients = 50;

    std::vector<Connection> clients;
    for (int i = 0; i < kClients; ++i) {
        clients.push_back(Connection::open(server.port()));
        clients.back().send_all(make_request("GET", "/random"));
    }
    const Deadline deadline = deadline_in(kStreamGuard);
    for (int i = 0; i < kClients; ++i) {
        CAPTURE(i);
        switch (i % 3) {
        case 0:  // gone after one event, politely
            REQUIRE(read_response(clients[i]).status == 200);
            REQUIRE(SseReader(clients[i]).next_event(deadline).has_value());
            clients[i].close();
            break;
        case 1:  // gone after one event, with a reset
            REQUIRE(read_response(clients[i]).status == 200);
            REQUIRE(SseReader(clients[i]).next_event(deadline).has_value());
            clients[i].reset();
            break;
        default:  // reset before reading anything
            clients[i].reset();
            break;
        }
    }

    // A server may notice a dead peer only when it next writes to it: the
    // first write to a FIN-closed socket draws a RST, the second fails with
    // EPIPE (and SIGPIPE, fatal unless ignored). Each stream writes after a
    // pause of at most kMaxPause, so watching a live stream for two pauses
    // and a margin covers two writes to every dead connection. This window
    // is a wait, not an assertion: a slow machine can only make the test
    // miss a bug, never fail a correct server.
    const auto watch_until = Clock::now() + 2 * kMaxPause + 1s;
    Connection watcher = open_random_stream(server.port());
    SseReader reader(watcher);
    for (int events = 0; Clock::now() < watch_until; ++events) {
        CAPTURE(events);
        REQUIRE(reader.next_event(deadline_in(kStreamGuard)).has_value());
    }

    Response again = fetch(server.port(), make_request("GET", "/random"));
    CHECK(again.status == 200);
    CHECK(server.is_running());
    CHECK(server.stop() == 0);
}
