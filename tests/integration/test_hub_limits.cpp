// The hub's rules and limits against the real server: who may publish, the
// largest body (413 before the body is read), names and topic lists (400,
// and nothing reaches the wire), and a subscriber too slow for --max-buffer,
// which is closed while the others get every event.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/hardening_client.h"
#include "../support/hub_client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

#include <unistd.h>

using namespace sse::test;

namespace {

// One request on a fresh connection: POST `target` with `body`.
Response post(std::uint16_t port, const std::string& target, const std::string& body,
              const std::string& extra_headers = "") {
    return fetch(port, make_request("POST", target,
                                    extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n") +
                           body);
}

int get_status(std::uint16_t port, const std::string& target) {
    return fetch(port, make_request("GET", target)).status;
}

// "t0,t1,...": `count` distinct topic names.
std::string topic_list(int count) {
    std::string list;
    for (int i = 0; i < count; ++i) list += (i ? ",t" : "t") + std::to_string(i);
    return list;
}

}  // namespace

TEST_CASE("hub: with --publish-token only the right Bearer token publishes or ends a topic") {
    ServerProcess server({"--no-demo", "--publish-token", "s3cret"});
    Response none = post(server.port(), "/publish?topic=t", "x");
    CHECK(none.status == 401);
    CHECK(none.header("WWW-Authenticate").find("Bearer") != std::string::npos);
    for (const char* wrong : {"Authorization: Bearer wrong\r\n", "Authorization: Bearer s3cre\r\n",
                                     "Authorization: Bearer s3cret2\r\n", "Authorization: Basic s3cret\r\n"}) {
        CAPTURE(wrong);
        CHECK(post(server.port(), "/publish?topic=t", "x", wrong).status == 401);
    }
    CHECK(fetch(server.port(), make_request("DELETE", "/publish?topic=t")).status == 401);

    const std::string right = "Authorization: Bearer s3cret\r\n";
    Response ok = post(server.port(), "/publish?topic=t", "x", right);
    CHECK(ok.status == 200);
    CHECK_FALSE(json_field(ok.body, "id").empty());
    CHECK(fetch(server.port(), make_request("DELETE", "/publish?topic=t", right)).status == 200);
}

TEST_CASE("hub: --publish-token-file gives the token without putting it on the command line") {
    char path_template[] = "/tmp/sse-token-XXXXXX";
    int fd = ::mkstemp(path_template);
    REQUIRE(fd >= 0);
    const std::string token_line = "f1le-t0ken\n";
    REQUIRE(::write(fd, token_line.data(), token_line.size()) == static_cast<ssize_t>(token_line.size()));
    ::close(fd);
    ServerProcess server({"--no-demo", "--publish-token-file", path_template});
    std::remove(path_template);  // read at start: the server no longer needs it
    CHECK(post(server.port(), "/publish?topic=t", "x").status == 401);
    CHECK(post(server.port(), "/publish?topic=t", "x", "Authorization: Bearer wrong\r\n").status == 401);
    // The file's newline is not part of the token.
    CHECK(post(server.port(), "/publish?topic=t", "x", "Authorization: Bearer f1le-t0ken\r\n").status == 200);
}

TEST_CASE("hub: without a token a loopback peer publishes") {
    // (The 403 for other peers cannot be reached from loopback.)
    ServerProcess server({"--no-demo"});
    CHECK(post(server.port(), "/publish?topic=t", "x").status == 200);
}

TEST_CASE("hub: a body over --max-event-bytes is refused with 413 from its head alone") {
    ServerProcess server({"--no-demo", "--max-event-bytes", "1K"});
    Connection conn = Connection::open(server.port());
    conn.send_all(make_request("POST", "/publish?topic=t", "Content-Length: 5000\r\n"));  // no body follows
    Response refused = read_response(conn);
    CHECK(refused.status == 413);
    CHECK(conn.wait_for_close());

    // The limit itself is allowed; one byte more is not.
    CHECK(post(server.port(), "/publish?topic=t", std::string(1024, 'x')).status == 200);
    Connection over = Connection::open(server.port());
    over.send_all(make_request("POST", "/publish?topic=t", "Content-Length: 1025\r\n"));
    CHECK(read_response(over).status == 413);
}

TEST_CASE("hub: bad names, bodies and topic lists are 400 and never reach a stream") {
    ServerProcess server({"--no-demo"});
    HubSubscriber sub(server.port(), "/latest/t");
    const std::string long_name(65, 'x');

    CHECK(post(server.port(), "/publish?topic=t", "\xff\xfe").status == 400);  // not UTF-8
    CHECK(post(server.port(), "/publish?topic=t", "ok\xc0\xaf").status == 400);  // overlong '/'
    CHECK(post(server.port(), "/publish?topic=t&event=bad%20name", "x").status == 400);
    CHECK(post(server.port(), "/publish?topic=t&event=" + long_name, "x").status == 400);
    CHECK(post(server.port(), "/publish?topic=a/b", "x").status == 400);
    CHECK(post(server.port(), "/publish?topic=" + long_name, "x").status == 400);
    CHECK(post(server.port(), "/publish?topic=", "x").status == 400);
    CHECK(post(server.port(), "/publish", "x").status == 400);
    CHECK(fetch(server.port(), make_request("DELETE", "/publish")).status == 400);

    CHECK(get_status(server.port(), "/latest/bad%20name") == 400);
    CHECK(get_status(server.port(), "/latest/" + long_name) == 400);
    CHECK(get_status(server.port(), "/latest?type=" + topic_list(65)) == 400);
    CHECK(get_status(server.port(), "/latest?type=a,,b") == 400);
    CHECK(get_status(server.port(), "/latest?type=") == 400);
    CHECK(get_status(server.port(), "/latest") == 400);

    // None of the refused publishes reached the stream: the next event is this one.
    std::string id = HubPublisher(server.port()).publish("t", "valid");
    SseEvent event = sub.next();
    CHECK(id_of(event) == id);
    CHECK(event.data == "valid");
}

TEST_CASE("hub: names and topic lists at their limits are accepted") {
    ServerProcess server({"--no-demo"});
    const std::string longest(64, 'x');
    CHECK(post(server.port(), "/publish?topic=" + longest + "&event=" + longest, "x").status == 200);
    CHECK(post(server.port(), "/publish?topic=A-z_0.9", "x").status == 200);
    HubSubscriber one(server.port(), "/latest/" + longest);
    CHECK(one.head().status == 200);
    HubSubscriber many(server.port(), "/latest?type=" + topic_list(64));
    CHECK(many.head().status == 200);
    // 65 entries, one a duplicate: 64 distinct topics.
    HubSubscriber merged(server.port(), "/latest?type=" + topic_list(64) + ",t0");
    CHECK(merged.head().status == 200);
}

TEST_CASE("hub: a subscriber past --max-buffer is closed while a reading one gets every event") {
    ServerProcess server({"--no-demo", "--max-buffer", "64K"});
    HubSubscriber reading(server.port(), "/latest/slow");
    // A 4 KiB window set before connect, and it never reads: its backlog
    // stays in the server.
    Connection stalled = Connection::open_with_receive_buffer(server.port(), 4096);
    REQUIRE(stalled.send_tolerant(make_request("GET", "/latest/slow")));
    REQUIRE(stalled.receive_until_contains("retry: "));

    HubPublisher publisher(server.port());
    const std::string filler(4096, 'x');
    constexpr int kEvents = 400;  // 1.6 MiB: far past 64 KiB plus what the kernel holds
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ids;
    for (int i = 0; i < kEvents; ++i) {
        const std::string data = std::to_string(i) + ":" + filler;
        std::string id = publisher.publish("slow", data);
        // Read as we go, so only the stalled subscriber falls behind.
        SseEvent event = reading.next();
        CAPTURE(i);
        REQUIRE(id_of(event) == id);
        REQUIRE(event.data == data);
        ids.push_back(event_id_key(id));
    }
    CHECK(ids.size() == kEvents);
    for (std::size_t i = 1; i < ids.size(); ++i) CHECK(ids[i - 1] < ids[i]);

    // Now drain the stalled one: what the server had handed to the kernel
    // arrives, then the close.
    CHECK(stalled.wait_for_close());
    std::size_t delivered = 0;
    for (std::size_t at = 0; (at = stalled.input().find("\nid: ", at)) != std::string::npos; ++at) ++delivered;
    CAPTURE(delivered);
    CHECK(delivered < kEvents);
}
