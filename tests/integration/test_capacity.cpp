// Refusals that lift by themselves, as a browser sees them. An EventSource
// whose answer is anything but a 200 event stream gives up for good, so a
// stream request turned away for now (the server is full, or shutting down)
// gets a 200 event stream with a retry: and a close; the browser comes back
// after it. Permanent refusals (a bad topic, an ended topic) keep their
// 400 and 204 at capacity too, and requests that are not streams keep 503.
#include <doctest/doctest.h>

#include <csignal>
#include <set>
#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/hardening_client.h"
#include "../support/hub_client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

using namespace sse::test;

namespace {

constexpr long kRetryMs = 1000;  // --retry-ms of these servers
constexpr long kSpread = 4;      // kCapacityRetrySpread

// The value of the last "retry: N" line of `stream`, or -1.
long last_retry(const std::string& stream) {
    std::size_t at = stream.rfind("retry: ");
    return at == std::string::npos ? -1 : std::stol(stream.substr(at + 7));
}

// Fills a --max-conns 2 server with two open streams.
std::vector<Connection> fill(std::uint16_t port) {
    std::vector<Connection> held;
    for (int i = 0; i < 2; ++i) {
        held.push_back(Connection::open(port));
        REQUIRE(sse::test::exchange(held.back(), make_request("GET", "/latest/held")).status == 200);
    }
    return held;
}

// Sends `target` on a new connection, reads the answer and the body up to
// the close; checks the answer is a 200 event stream that closes.
std::string turned_away(std::uint16_t port, const std::string& target) {
    Connection conn = Connection::open(port);
    Response head = sse::test::exchange(conn, make_request("GET", target));
    CAPTURE(target);
    CHECK(head.status == 200);
    CHECK(head.header("Content-Type") == "text/event-stream");
    CHECK(head.header("Cache-Control") == "no-cache, no-transform");
    CHECK(head.header("Connection") == "close");
    CHECK(conn.wait_for_close());
    return conn.input();
}

}  // namespace

TEST_CASE("capacity: past --max-conns a stream request gets 200, a wide retry: and a close") {
    ServerProcess server({"--no-demo", "--max-conns", "2", "--retry-ms", std::to_string(kRetryMs)});
    std::vector<Connection> held = fill(server.port());

    std::set<long> retries;
    for (const std::string target : {"/latest/t", "/latest?type=a,b", "/random", "/latest/t", "/latest/u",
                                     "/latest/v", "/random", "/latest/w"}) {
        std::string body = turned_away(server.port(), target);
        CAPTURE(body);
        long retry = last_retry(body);
        CHECK(retry >= kRetryMs);
        CHECK(retry <= kSpread * kRetryMs);
        CHECK(body.find("\n: server at capacity") != std::string::npos);
        // No event and no data line: only the hint, so nothing is "received".
        CHECK(body.find("data:") == std::string::npos);
        retries.insert(retry);
    }
    // Spread, not one instant for all: eight draws from a 3-second window.
    CHECK(retries.size() >= 2);

    // Once a place is free, the same request streams again.
    held.pop_back();
    bool streamed = retry_until([&] {
        HubSubscriber sub(server.port(), "/latest/t");
        return sub.head().status == 200 && sub.head().header("Connection") != "close";
    });
    CHECK(streamed);
}

TEST_CASE("capacity: permanent refusals stay permanent, other requests get 503, probes are answered") {
    ServerProcess server({"--no-demo", "--max-conns", "2"});
    HubPublisher(server.port()).publish("ended", "x");
    REQUIRE(fetch(server.port(), make_request("DELETE", "/publish?topic=ended")).status == 200);
    std::vector<Connection> held = fill(server.port());

    CHECK(fetch(server.port(), make_request("GET", "/latest/bad%20name")).status == 400);
    CHECK(fetch(server.port(), make_request("GET", "/latest/ended")).status == 204);
    CHECK(fetch(server.port(), make_request("GET", "/healthz")).status == 200);
    Response file = fetch(server.port(), make_request("GET", "/"));
    CHECK(file.status == 503);
    CHECK(file.header("Retry-After") == "5");
    Response publish = fetch(server.port(), make_request("POST", "/publish?topic=t", "Content-Length: 1\r\n") + "x");
    CHECK(publish.status == 503);

    // A HEAD of a stream gets the stream's head, and the connection closes.
    Connection conn = Connection::open(server.port());
    conn.send_all(make_request("HEAD", "/latest/t"));
    Response head = read_response(conn, true);
    CHECK(head.status == 200);
    CHECK(head.header("Content-Type") == "text/event-stream");
    CHECK(head.header("Connection") == "close");
    CHECK(conn.wait_for_close());
}

TEST_CASE("capacity: a stream asked for while the server shuts down gets 200, retry: and a close") {
    ServerProcess server({"--no-demo", "--shutdown-ms", "60000", "--retry-ms", std::to_string(kRetryMs)});
    // A request in progress when the shutdown starts; it keeps the server
    // (and this connection) up until it is answered. It is sent behind a
    // complete one, in one write: once that is answered, the server has
    // read the partial request too.
    Connection late = Connection::open(server.port());
    late.send_all(make_request("GET", "/healthz") + "GET /latest/t HTTP/1.1\r\nHost: a\r\n");
    REQUIRE(read_response(late).status == 200);
    REQUIRE(::kill(server.pid(), SIGTERM) == 0);
    // A shutting-down server stops listening: then the request completes.
    REQUIRE(retry_until([&] {
        try {
            Connection probe = Connection::open(server.port());
            return false;
        } catch (const std::runtime_error&) {
            return true;
        }
    }));
    late.send_all("\r\n");
    Response head = read_response(late);
    CHECK(head.status == 200);
    CHECK(head.header("Content-Type") == "text/event-stream");
    CHECK(head.header("Connection") == "close");
    CHECK(late.wait_for_close());
    long retry = last_retry(late.input());
    CHECK(retry >= kRetryMs * 8 / 10);
    CHECK(retry <= kRetryMs * 12 / 10);
    CHECK(late.input().find("\n: server shutting down") != std::string::npos);
    CHECK(server.stop() == 0);
}
