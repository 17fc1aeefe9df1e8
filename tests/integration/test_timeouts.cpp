// Hardening against peers that hold connections: the header, body and idle
// timeouts, and the connection limit. Each server runs with a short timeout;
// the test then waits for its effect under the guard deadline, and never
// measures how long it took.
#include <doctest/doctest.h>

#include <cctype>
#include <chrono>
#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/hardening_client.h"
#include "../support/server_process.h"

using namespace sse::test;

namespace {

std::string lowercase(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// The answer to a request that ran out of time: 408, then the server closes.
void check_408_then_close(Connection& conn) {
    Response response = read_response(conn);
    CHECK(response.status == 408);
    CHECK(lowercase(response.header("Connection")) == "close");
    CHECK(conn.wait_for_close());
    CHECK(conn.input().empty());
}

}  // namespace

TEST_CASE("hardening: headers that stop arriving get 408 and a close") {
    ServerProcess server({"--no-demo", "--header-timeout-ms", "300"});
    Connection conn = Connection::open(server.port());
    conn.send_all("GET / HTTP/1.1\r\nHost: a\r\n");  // no blank line: the head never ends
    check_408_then_close(conn);
}

TEST_CASE("hardening: a slowloris trickling one header byte at a time gets 408 and a close") {
    ServerProcess server({"--no-demo", "--header-timeout-ms", "300"});
    Connection conn = Connection::open(server.port());
    conn.send_all("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ");

    // One byte, then up to 100 ms for an answer, again and again: each byte
    // is progress, but the header deadline counts from the first byte.
    // The guard bounds this to about 100 bytes, far below the 8 KiB limit.
    const Deadline guard = deadline_in(kGuardTimeout);
    bool server_spoke = false;
    std::size_t bytes_trickled = 0;
    while (!server_spoke && Clock::now() < guard) {
        try {
            conn.send_byte_by_byte("a");
            ++bytes_trickled;
        } catch (const std::runtime_error&) {
            break;  // the server has gone: read what it said
        }
        try {
            conn.receive(deadline_in(std::chrono::milliseconds(100)));
            server_spoke = true;  // bytes or the close
        } catch (const TimeoutError&) {
        }
    }
    CAPTURE(bytes_trickled);
    REQUIRE_MESSAGE(Clock::now() < guard, "the server let a slowloris trickle for the whole guard");
    check_408_then_close(conn);
}

TEST_CASE("hardening: a body that stops arriving gets 408 and a close") {
    ServerProcess server({"--no-demo", "--body-timeout-ms", "300"});
    Connection conn = Connection::open(server.port());
    conn.send_all("POST /publish?topic=t HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
    check_408_then_close(conn);
}

TEST_CASE("hardening: an idle connection is closed by the server") {
    ServerProcess server({"--no-demo", "--idle-timeout-ms", "300"});

    SUBCASE("one that never sends a byte") {
        Connection conn = Connection::open(server.port());
        CHECK(conn.wait_for_close());
        CHECK(conn.input().empty());
    }
    SUBCASE("one that goes quiet after a complete keep-alive request") {
        Connection conn = Connection::open(server.port());
        Response response = sse::test::exchange(conn, make_request("GET", "/healthz"));
        CHECK(response.status == 200);
        CHECK(lowercase(response.header("Connection")) != "close");
        CHECK(conn.wait_for_close());
        CHECK(conn.input().empty());
    }
}

TEST_CASE("hardening: the header deadline of an answered request never closes the connection") {
    // The server keeps the timer set for a request's header deadline and
    // only moves the deadline itself (see Connection::set_deadline). When
    // that timer fires on a connection that has since gone idle, it must
    // re-arm for the idle deadline, not answer 408.
    ServerProcess server({"--no-demo", "--header-timeout-ms", "100"});
    Connection conn = Connection::open(server.port());
    CHECK(sse::test::exchange(conn, make_request("GET", "/healthz")).status == 200);
    // Three header deadlines long: the first request's timer has fired.
    CHECK_THROWS_AS(conn.receive(deadline_in(std::chrono::milliseconds(300))), TimeoutError);
    Response second = sse::test::exchange(conn, make_request("GET", "/healthz"));
    CHECK(second.status == 200);
    CHECK(lowercase(second.header("Connection")) != "close");
}

TEST_CASE("hardening: past --max-conns a connection gets 503 with Retry-After, and a freed slot is reused") {
    ServerProcess server({"--no-demo", "--max-conns", "3"});
    std::vector<Connection> held;
    for (int i = 0; i < 3; ++i) held.push_back(Connection::open(server.port()));

    // Past the limit, a connection is still read, but only for /healthz:
    // load balancers probe exactly when a server is full.
    Connection health = Connection::open(server.port());
    Response ok = sse::test::exchange(health, make_request("GET", "/healthz"));
    CHECK(ok.status == 200);
    Connection fourth = Connection::open(server.port());
    Response refused = sse::test::exchange(fourth, make_request("GET", "/"));
    CHECK(refused.status == 503);
    CHECK_FALSE(refused.header("Retry-After").empty());
    CHECK(lowercase(refused.header("Connection")) == "close");
    CHECK(fourth.wait_for_close());

    // Past the headroom a connection is closed unread and unanswered: a 503
    // there could end a browser's EventSource for good; a close brings it back.
    bool closed_unasked = false;
    for (int i = 0; i < 40 && !closed_unasked; ++i) {
        held.push_back(Connection::open(server.port()));
        closed_unasked = held.back().wait_for_close(deadline_in(std::chrono::milliseconds(300)));
        if (closed_unasked) CHECK(held.back().input().empty());
        // else: still within the headroom; keep it open and try the next one
    }
    CHECK(closed_unasked);

    // The server learns of the close only when it reads the FIN, so ask
    // again until a new connection is served.
    held.clear();
    health.close();
    int last_status = 0;
    bool served = retry_until([&] {
        try {
            Connection conn = Connection::open(server.port());
            Response response = sse::test::exchange(conn, make_request("GET", "/"));
            last_status = response.status;
            return response.status == 200;
        } catch (const std::runtime_error&) {
            return false;  // still past the headroom: closed unread
        }
    });
    CAPTURE(last_status);
    CHECK(served);
}
