// Hardening of shutdown: the first SIGTERM ends every stream with a fresh
// retry hint and exits 0 once they are flushed; a second one exits at once,
// even while a stream that never reads holds the first shutdown up.
#include <doctest/doctest.h>

#include <csignal>
#include <string>

#include "../support/client.h"
#include "../support/hardening_client.h"
#include "../support/server_process.h"

using namespace sse::test;

namespace {

// The lines of `stream` that begin with "retry: ".
int count_retry_lines(const std::string& stream) {
    int count = 0;
    for (std::size_t at = 0; at < stream.size();) {
        std::size_t eol = stream.find('\n', at);
        if (eol == std::string::npos) eol = stream.size();
        if (stream.compare(at, 7, "retry: ") == 0) ++count;
        at = eol + 1;
    }
    return count;
}

}  // namespace

TEST_CASE("hardening: SIGTERM ends a stream with a retry hint, then EOF, and exits 0") {
    ServerProcess server({"--no-demo"});
    Connection subscriber = Connection::open(server.port());
    REQUIRE(sse::test::exchange(subscriber, make_request("GET", "/latest/s")).status == 200);
    // The stream's opening retry block, so the one counted later is new.
    REQUIRE(subscriber.receive_until([](const std::string& in) { return in.find("\n\n") != std::string::npos; },
                                     deadline_in(kGuardTimeout)));
    REQUIRE(count_retry_lines(subscriber.input()) == 1);

    CHECK(server.stop() == 0);
    CHECK(subscriber.wait_for_close());
    const std::string& stream = subscriber.input();
    CAPTURE(stream);
    CHECK(count_retry_lines(stream) == 2);
    // The hint is the last thing sent: "retry: N\n\n" right before the close.
    std::size_t last_retry = stream.rfind("retry: ");
    REQUIRE(last_retry != std::string::npos);
    CHECK(stream.find("\n\n", last_retry) == stream.size() - 2);
}

TEST_CASE("hardening: a second SIGTERM exits at once while a stalled stream holds the first") {
    // More than the kernel's socket buffers can take, so the stream's
    // backlog stays in the server and its graceful end cannot finish.
    const std::size_t backlog = 2 * kernel_send_buffer_max() + 2 * 1024 * 1024;
    ServerProcess server({"--no-demo", "--shutdown-ms", "60000", "--max-buffer", std::to_string(2 * backlog)});
    const pid_t pid = server.pid();

    // A reader with a tiny window that never reads.
    Connection stalled = Connection::open_with_receive_buffer(server.port(), 4096);
    stalled.send_tolerant("GET /latest/z HTTP/1.1\r\nHost: a\r\n\r\n");
    REQUIRE(stalled.receive_until_contains("\r\n\r\n"));
    Connection publisher = Connection::open(server.port());
    const std::string data(64000, 'z');
    for (std::size_t queued = 0; queued < backlog; queued += data.size()) {
        Response response = sse::test::exchange(
            publisher, "POST /publish?topic=z HTTP/1.1\r\nHost: a\r\nContent-Length: " +
                           std::to_string(data.size()) + "\r\n\r\n" + data);
        REQUIRE(response.status == 200);
        REQUIRE(response.body.find("\"queued\":1") != std::string::npos);
    }
    publisher.close();

    REQUIRE(::kill(pid, SIGTERM) == 0);
    // Two SIGTERMs pending at once would merge into one, so wait until the
    // first is handled: a shutting-down server stops listening.
    CHECK(retry_until([&] {
        try {
            Connection probe = Connection::open(server.port());
            return false;
        } catch (const std::runtime_error&) {
            return true;
        }
    }));
    REQUIRE_MESSAGE(server.is_running(), "the stalled stream should hold the graceful shutdown");

    // stop() sends the second SIGTERM; a server that ignored it would be
    // killed at the guard (status 137), far sooner than --shutdown-ms.
    CHECK(server.stop() == 0);
}
