// Hardening against hostile bytes and misbehaving peers: junk, a TLS
// handshake on the plain port, oversized lines and headers, a subscriber
// that half-closes, and one that resets while the server holds a backlog
// for it. Through all of it the server keeps serving everyone else.
#include <doctest/doctest.h>

#include <cctype>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../support/client.h"
#include "../support/hardening_client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

using namespace sse::test;

namespace {

std::string lowercase(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// `count` bytes from a fixed seed: the same junk on every run.
std::string junk(std::size_t count) {
    std::mt19937 random(20240601);
    std::string bytes;
    for (std::size_t i = 0; i < count; ++i) bytes += static_cast<char>(random() & 0xFF);
    return bytes;
}

void append_u16(std::string& out, std::size_t value) {
    out += static_cast<char>((value >> 8) & 0xFF);
    out += static_cast<char>(value & 0xFF);
}

// A TLS 1.3 ClientHello as a browser opens an https:// URL with, with the
// extensions (server name, supported groups, signature algorithms,
// supported versions) that every modern client sends.
std::string tls_client_hello() {
    std::string extensions;
    const std::string host = "localhost";
    append_u16(extensions, 0x0000);  // server_name
    append_u16(extensions, host.size() + 5);
    append_u16(extensions, host.size() + 3);
    extensions += '\0';
    append_u16(extensions, host.size());
    extensions += host;
    extensions += std::string("\x00\x0a\x00\x04\x00\x02\x00\x1d", 8);          // supported_groups
    extensions += std::string("\x00\x0d\x00\x04\x00\x02\x04\x03", 8);          // signature_algorithms
    extensions += std::string("\x00\x2b\x00\x03\x02\x03\x04", 7);              // supported_versions

    std::string body = std::string("\x03\x03", 2);                            // legacy_version
    body += std::string(32, '\x5a');                                          // random
    body += '\x20';
    body += std::string(32, '\x33');                                          // session id
    body += std::string("\x00\x06\x13\x01\x13\x02\x13\x03", 8);               // cipher suites
    body += std::string("\x01\x00", 2);                                       // compression: null
    append_u16(body, extensions.size());
    body += extensions;

    std::string handshake = "\x01";  // client_hello
    handshake += '\0';
    append_u16(handshake, body.size());
    handshake += body;

    std::string record = std::string("\x16\x03\x01", 3);  // handshake, TLS 1.0 record
    append_u16(record, handshake.size());
    return record + handshake;
}

// Sends `bytes` (tolerating a server that hangs up first), reads to the
// close and returns the one response that must have come back.
Response answer_to(std::uint16_t port, const std::string& bytes) {
    Connection sock = Connection::open(port);
    sock.send_tolerant(bytes, 16 * 1024);
    CHECK(sock.wait_for_close());
    std::vector<Response> responses = parse_responses(sock.input());
    CHECK(responses.size() == 1);
    if (responses.empty()) return {};
    CHECK(lowercase(responses.front().header("Connection")) == "close");
    return responses.front();
}

std::string topic_list(int count) {
    std::string list;
    for (int i = 0; i < count; ++i) list += (i ? ",t" : "t") + std::to_string(i);
    return list;
}

// "<ms>-<seq>" as a pair that compares in id order.
std::pair<std::uint64_t, std::uint64_t> id_key(const std::string& id) {
    std::size_t dash = id.find('-');
    return {std::stoull(id.substr(0, dash)), std::stoull(id.substr(dash + 1))};
}

long subscribers_of(std::uint16_t port, const std::string& topic) {
    Response response = fetch(port, make_request("GET", "/topics/" + topic));
    return response.status == 200 ? subscribers_in(response.body) : -1;
}

Response publish(Connection& publisher, const std::string& topic, const std::string& data) {
    return sse::test::exchange(publisher, "POST /publish?topic=" + topic + " HTTP/1.1\r\nHost: a\r\nContent-Length: " +
                                   std::to_string(data.size()) + "\r\n\r\n" + data);
}

// Sends a stream request on a raw socket and waits for the response head.
void open_raw_stream(Connection& sock, const std::string& topic) {
    sock.send_tolerant("GET /latest/" + topic + " HTTP/1.1\r\nHost: a\r\n\r\n");
    REQUIRE(sock.receive_until_contains("\r\n\r\n"));
    REQUIRE(sock.input().starts_with("HTTP/1.1 200"));
}

}  // namespace

TEST_CASE("hardening: hostile bytes get a 4xx and a close, and the server lives on") {
    // A long header timeout: a server waiting for more bytes would show as
    // a guard timeout here, never as a 408 that looks like an answer.
    ServerProcess server({"--no-demo", "--header-timeout-ms", "60000"});
    struct Hostile {
        const char* name;
        std::string bytes;
        int status;  // 0: any 4xx
    };
    const Hostile cases[] = {
        {"1 KB of random junk", junk(1024), 0},
        {"a TLS ClientHello", tls_client_hello(), 400},
        {"a 1 MB request line", "GET /" + std::string(1024 * 1024, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
        {"10,000 topics in /latest?type=", make_request("GET", "/latest?type=" + topic_list(10000)), 414},
        {"a 20 KB Last-Event-ID",
         make_request("GET", "/latest/t", "Last-Event-ID: " + std::string(20 * 1024, '1') + "\r\n"), 431},
    };
    // One server takes all of them in turn, then must still serve.
    for (const Hostile& c : cases) {
        INFO(c.name);
        int status = answer_to(server.port(), c.bytes).status;
        CAPTURE(status);
        if (c.status == 0) CHECK(status / 100 == 4);
        else CHECK(status == c.status);
    }
    Response health = fetch(server.port(), make_request("GET", "/healthz"));
    CHECK(health.status == 200);
    CHECK(server.is_running());
}

TEST_CASE("hardening: a subscriber that half-closes is closed and unsubscribed") {
    ServerProcess server({"--no-demo"});
    // An event in history keeps /topics/hc answering after the last reader leaves.
    Connection publisher = Connection::open(server.port());
    REQUIRE(publish(publisher, "hc", "before").status == 200);

    Connection subscriber = Connection::open(server.port());
    open_raw_stream(subscriber, "hc");
    CHECK(subscribers_of(server.port(), "hc") == 1);

    subscriber.shutdown_write();
    CHECK(subscriber.wait_for_close());
    long last = -2;  // -1: /topics/hc did not answer 200
    CAPTURE(last);  // read when a check fails, so it shows the final value
    CHECK(retry_until([&] { return (last = subscribers_of(server.port(), "hc")) == 0; }));
}

TEST_CASE("hardening: a subscriber that resets with a backlog leaves the others whole") {
    // More than the kernel's socket buffers hold: the backlog stays in the server.
    const std::size_t backlog = 2 * kernel_send_buffer_max() + 2 * 1024 * 1024;
    ServerProcess server({"--no-demo", "--max-buffer", std::to_string(2 * backlog)});
    Connection reader_conn = Connection::open(server.port());
    REQUIRE(sse::test::exchange(reader_conn, make_request("GET", "/latest/rst")).status == 200);
    SseReader reader(reader_conn);

    // A tiny window, and it never reads: its backlog grows in the server.
    Connection stalled = Connection::open_with_receive_buffer(server.port(), 4096);
    open_raw_stream(stalled, "rst");
    REQUIRE(subscribers_of(server.port(), "rst") == 2);

    Connection publisher = Connection::open(server.port());
    const std::string filler(60000, 'x');
    std::vector<std::string> sent;
    auto publish_numbered = [&](std::size_t expected_queued) {
        std::string data = "event-" + std::to_string(sent.size()) + ":" + filler;
        Response response = publish(publisher, "rst", data);
        CHECK(response.status == 200);
        CHECK(response.body.find("\"queued\":" + std::to_string(expected_queued)) != std::string::npos);
        sent.push_back(std::move(data));
    };
    for (std::size_t queued = 0; queued < backlog; queued += filler.size()) publish_numbered(2);

    stalled.reset();
    long last = -2;  // -1: /topics/rst did not answer 200
    CAPTURE(last);  // read when a check fails, so it shows the final value
    CHECK(retry_until([&] { return (last = subscribers_of(server.port(), "rst")) == 1; }));
    for (int i = 0; i < 8; ++i) publish_numbered(1);

    std::optional<std::pair<std::uint64_t, std::uint64_t>> previous;
    for (std::size_t i = 0; i < sent.size(); ++i) {
        CAPTURE(i);
        std::optional<SseEvent> event = reader.next_event(deadline_in(kGuardTimeout));
        REQUIRE(event);
        CHECK(event->data == sent[i]);
        REQUIRE(event->id);
        auto key = id_key(*event->id);
        if (previous) CHECK(*previous < key);
        previous = key;
    }
    CHECK(fetch(server.port(), make_request("GET", "/healthz")).status == 200);
}

TEST_CASE("hardening: a stream whose reader stopped is closed after the idle timeout") {
    // A backlog far below --max-buffer, so only the stall rule can act.
    ServerProcess server({"--no-demo", "--idle-timeout-ms", "300", "--max-buffer", "64M"});
    Connection stalled = Connection::open_with_receive_buffer(server.port(), 4096);
    open_raw_stream(stalled, "stall");
    REQUIRE(subscribers_of(server.port(), "stall") == 1);

    Connection publisher = Connection::open(server.port());
    const std::string filler(64000, 'x');
    for (int i = 0; i < 200; ++i) REQUIRE(publish(publisher, "stall", filler).status == 200);

    long last = -2;  // -1: /topics/stall did not answer 200
    CAPTURE(last);
    CHECK(retry_until([&] { return (last = subscribers_of(server.port(), "stall")) == 0; }));
    CHECK(fetch(server.port(), make_request("GET", "/healthz")).status == 200);
}

TEST_CASE("hardening: a subscriber past --max-buffer is dropped while others get every event") {
    ServerProcess server({"--no-demo", "--max-buffer", "64K"});
    Connection reader_conn = Connection::open(server.port());
    REQUIRE(sse::test::exchange(reader_conn, make_request("GET", "/latest/cap")).status == 200);
    SseReader reader(reader_conn);
    Connection stalled = Connection::open_with_receive_buffer(server.port(), 4096);
    open_raw_stream(stalled, "cap");
    REQUIRE(subscribers_of(server.port(), "cap") == 2);

    // Publish until the stalled reader is gone, reading the good one as we go
    // so that only the stalled one falls behind.
    Connection publisher = Connection::open(server.port());
    const std::string filler(4000, 'x');
    int published = 0;
    CHECK(retry_until([&] {
        for (int i = 0; i < 20; ++i, ++published) {
            REQUIRE(publish(publisher, "cap", std::to_string(published) + ":" + filler).status == 200);
            std::optional<SseEvent> event = reader.next_event(deadline_in(kGuardTimeout));
            REQUIRE(event);
            REQUIRE(event->data == std::to_string(published) + ":" + filler);
        }
        return subscribers_of(server.port(), "cap") == 1;
    }));
    CHECK(stalled.wait_for_close());
    Response metrics = fetch(server.port(), make_request("GET", "/metrics"));
    CHECK(metrics.body.find("sse_slow_subscriber_drops_total 1\n") != std::string::npos);
}
