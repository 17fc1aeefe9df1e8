// Hardening of request framing (RFC 9112 sections 5, 6 and 7): every head
// or body whose length two parsers could read differently is refused with
// Connection: close, and nothing after it is read as a request, so a
// request smuggled behind it is never answered. Also Expect: 100-continue
// and the 417 for any other expectation.
#include <doctest/doctest.h>

#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/server_process.h"
#include "../support/sse_reader.h"

using namespace sse::test;
using namespace std::string_literals;

namespace {

std::string lowercase(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// A valid request sent in the same write as each bad one: it must never be
// answered, since the server cannot know where the bad one ends.
const std::string kSmuggled = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n";

const std::string kPublish = "POST /publish?topic=t HTTP/1.1\r\nHost: a\r\n";

struct FramingCase {
    std::string name;
    std::string request;
    std::set<int> statuses;  // any of these is a correct answer
};

std::string many_headers(int count) {
    std::string request = "GET /healthz HTTP/1.1\r\nHost: a\r\n";
    for (int i = 1; i < count; ++i) request += "X-H" + std::to_string(i) + ": v\r\n";
    return request + "\r\n";
}

const std::vector<FramingCase>& framing_cases() {
    static const std::vector<FramingCase> cases = {
        {"Content-Length and Transfer-Encoding together",
         kPublish + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {400}},
        {"two differing Content-Length fields",
         kPublish + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", {400}},
        {"Content-Length +5", kPublish + "Content-Length: +5\r\n\r\nhello", {400}},
        {"Content-Length 0x10", kPublish + "Content-Length: 0x10\r\n\r\n0123456789abcdef", {400}},
        {"Content-Length -1", kPublish + "Content-Length: -1\r\n\r\n", {400}},
        {"Content-Length of 21 digits", kPublish + "Content-Length: 100000000000000000000\r\n\r\n", {400}},
        {"Transfer-Encoding gzip, chunked",
         kPublish + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", {501}},
        {"Transfer-Encoding chunked, gzip",
         kPublish + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", {400, 501}},
        {"Transfer-Encoding in HTTP/1.0",
         "POST /publish?topic=t HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {400}},
        {"chunk size zz",
         kPublish + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", {400}},
        {"chunk size of 17 hex digits",
         kPublish + "Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\nhello\r\n0\r\n\r\n", {400}},
        {"chunk extension without a name",
         kPublish + "Transfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n", {400}},
        {"chunk extension with an open quote",
         kPublish + "Transfer-Encoding: chunked\r\n\r\n5;a=\"b\r\nhello\r\n0\r\n\r\n", {400}},
        {"whitespace before the colon", "GET /healthz HTTP/1.1\r\nHost : a\r\n\r\n", {400}},
        {"obsolete line folding", "GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", {400}},
        {"bare CR in a header", "GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n", {400}},
        {"NUL in a header value", "GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n"s, {400}},
        {"101 header lines", many_headers(101), {400}},
        {"POST with neither Content-Length nor chunked", kPublish + "\r\nhello", {411}},
    };
    return cases;
}

Response open_stream(Connection& conn, const std::string& topic) {
    Response head = sse::test::exchange(conn, make_request("GET", "/latest/" + topic));
    REQUIRE(head.status == 200);
    return head;
}

}  // namespace

TEST_CASE("hardening: ambiguous framing is refused with one answer, Connection: close and EOF") {
    ServerProcess server({"--no-demo"});
    for (const FramingCase& c : framing_cases()) {
        SUBCASE(c.name.c_str()) {
            Connection conn = Connection::open(server.port());
            conn.send_all(c.request + kSmuggled);
            Response response = read_response(conn);
            CAPTURE(response.status);
            CHECK(c.statuses.count(response.status) == 1);
            CHECK(lowercase(response.header("Connection")) == "close");
            CHECK(conn.wait_for_close());
            // Anything left is a second response: the smuggled request was read.
            CHECK(conn.input().empty());
        }
    }
}

TEST_CASE("hardening: a chunked publish is decoded, whatever the pieces it arrives in") {
    ServerProcess server({"--no-demo"});
    Connection subscriber = Connection::open(server.port());
    open_stream(subscriber, "t");
    SseReader reader(subscriber);

    Connection publisher = Connection::open(server.port());
    publisher.send_byte_by_byte(kPublish +
                                "Transfer-Encoding: chunked\r\n\r\n"
                                "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: x\r\n\r\n");
    Response published = read_response(publisher);
    CHECK(published.status == 200);
    CHECK(published.body.find("\"queued\":1") != std::string::npos);
    // A second event shows that nothing else was delivered in between.
    Response second = sse::test::exchange(publisher, kPublish + "Content-Length: 3\r\n\r\nend");
    CHECK(second.status == 200);

    std::optional<SseEvent> event = reader.next_event(deadline_in(kGuardTimeout));
    REQUIRE(event);
    CHECK(event->data == "hello, world");
    event = reader.next_event(deadline_in(kGuardTimeout));
    REQUIRE(event);
    CHECK(event->data == "end");
}

TEST_CASE("hardening: bare LF line endings are accepted") {
    ServerProcess server({"--no-demo"});
    Connection conn = Connection::open(server.port());
    Response response = sse::test::exchange(conn, "GET /healthz HTTP/1.1\nHost: a\n\n");
    CHECK(response.status == 200);
    CHECK(response.body == "ok\n");
}

TEST_CASE("hardening: Expect: 100-continue is answered before the body, only when it will be accepted") {
    SUBCASE("an acceptable body gets 100 Continue, then the answer") {
        ServerProcess server({"--no-demo", "--max-event-bytes", "1K"});
        Connection conn = Connection::open(server.port());
        conn.send_all(kPublish + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        conn.receive_until([](const std::string& in) { return in.find("\r\n\r\n") != std::string::npos; },
                           deadline_in(kGuardTimeout));
        CHECK(conn.input() == "HTTP/1.1 100 Continue\r\n\r\n");
        conn.input().clear();
        Response response = sse::test::exchange(conn, "hello");
        CHECK(response.status == 200);
        CHECK(response.header("Content-Type").starts_with("application/json"));
        CHECK(response.body.find("\"id\":") != std::string::npos);
    }
    SUBCASE("a body over --max-event-bytes gets 413 and no 100") {
        ServerProcess server({"--no-demo", "--max-event-bytes", "1K"});
        Connection conn = Connection::open(server.port());
        conn.send_all(kPublish + "Expect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
        Response response = read_response(conn);
        CHECK(response.status == 413);
        CHECK(lowercase(response.header("Connection")) == "close");
        CHECK(conn.wait_for_close());
        CHECK(conn.input().empty());
    }
    SUBCASE("an expectation other than 100-continue gets 417") {
        ServerProcess server({"--no-demo"});
        Connection conn = Connection::open(server.port());
        conn.send_all(kPublish + "Expect: something-else\r\nContent-Length: 5\r\n\r\n");
        Response response = read_response(conn);
        CHECK(response.status == 417);
        CHECK(conn.wait_for_close());
        CHECK(conn.input().empty());
    }
    SUBCASE("an expectation other than 100-continue gets 417 even when the body came with the head") {
        ServerProcess server({"--no-demo"});
        Connection conn = Connection::open(server.port());
        conn.send_all(kPublish + "Expect: foo\r\nContent-Length: 5\r\n\r\nhello" + kSmuggled);
        Response response = read_response(conn);
        CHECK(response.status == 417);
        CHECK(lowercase(response.header("Connection")) == "close");
        CHECK(conn.wait_for_close());
        CHECK(conn.input().empty());
        // Nothing was published: the topic has neither history nor streams.
        CHECK(fetch(server.port(), make_request("GET", "/topics/t")).status == 404);
    }
    SUBCASE("a GET with an expectation other than 100-continue gets 417") {
        ServerProcess server({"--no-demo"});
        Connection conn = Connection::open(server.port());
        conn.send_all("GET /healthz HTTP/1.1\r\nHost: a\r\nExpect: foo\r\n\r\n");
        Response response = read_response(conn);
        CHECK(response.status == 417);
        CHECK(conn.wait_for_close());
    }
    SUBCASE("HTTP/1.0 ignores Expect, whatever it says") {
        ServerProcess server({"--no-demo"});
        Connection conn = Connection::open(server.port());
        conn.send_all("POST /publish?topic=t HTTP/1.0\r\nExpect: foo\r\nContent-Length: 5\r\n\r\nhello");
        Response response = read_response(conn);
        CHECK(response.status == 200);
    }
    SUBCASE("a publish without the token gets 401 and no 100") {
        ServerProcess server({"--no-demo", "--publish-token", "tok"});
        Connection conn = Connection::open(server.port());
        conn.send_all(kPublish + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        Response response = read_response(conn);
        CHECK(response.status == 401);
        CHECK(response.header("WWW-Authenticate").starts_with("Bearer"));
        CHECK(conn.wait_for_close());
        CHECK(conn.input().empty());
    }
    SUBCASE("a publish with the token gets 100, then 200") {
        ServerProcess server({"--no-demo", "--publish-token", "tok"});
        Connection conn = Connection::open(server.port());
        conn.send_all(kPublish +
                      "Authorization: Bearer tok\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        Response interim = read_response(conn);
        CHECK(interim.status == 100);
        Response response = sse::test::exchange(conn, "hello");
        CHECK(response.status == 200);
    }
}
