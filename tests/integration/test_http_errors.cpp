// Error answers: every one has a short text/plain body; the ones after which
// the connection cannot be trusted (400, 414, 431, 501, 505) also say
// "Connection: close" and the server closes.
#include <doctest/doctest.h>

#include <cctype>
#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/server_process.h"
#include "../support/static_site.h"

using namespace sse::test;

namespace {

std::string lowercase(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

void check_short_text_body(const Response& response) {
    CHECK(response.header("Content-Type").starts_with("text/plain"));
    CHECK_FALSE(response.body.empty());
    CHECK(response.body.size() < 1024);
}

struct FatalErrorCase {
    std::string name;
    std::string request;
    int status;
};

const std::vector<FatalErrorCase>& fatal_error_cases() {
    static const std::vector<FatalErrorCase> cases = {
        {"request line without a version", "GET /index.html\r\nHost: localhost\r\n\r\n", 400},
        {"request line with an extra word",
         "GET /index.html HTTP/1.1 extra\r\nHost: localhost\r\n\r\n", 400},
        {"request line with only a method", "GET\r\nHost: localhost\r\n\r\n", 400},
        {"HTTP/1.1 without Host", "GET /index.html HTTP/1.1\r\n\r\n", 400},
        {"two Host fields", "GET /index.html HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        {"a Host value that is no host", "GET /index.html HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        {"request line over 8 KiB",
         "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: localhost\r\n\r\n", 414},
        {"header fields over 8 KiB",
         "GET / HTTP/1.1\r\nHost: localhost\r\nX-Filler: " + std::string(9000, 'b') + "\r\n\r\n",
         431},
        {"unknown method", "BREW / HTTP/1.1\r\nHost: localhost\r\n\r\n", 501},
        {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: localhost\r\n\r\n", 505},
        {"HTTP/1.2", "GET / HTTP/1.2\r\nHost: localhost\r\n\r\n", 505},
    };
    return cases;
}

}  // namespace

TEST_CASE("a request the server cannot trust gets its error, Connection: close, then EOF") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    for (const FatalErrorCase& c : fatal_error_cases()) {
        SUBCASE(c.name.c_str()) {
            Connection conn = Connection::open(server.port());
            Response response = exchange(conn, c.request);
            CHECK(response.status == c.status);
            check_short_text_body(response);
            CHECK(lowercase(response.header("Connection")) == "close");
            CHECK(conn.wait_for_close());
        }
    }
}

TEST_CASE("a missing file is 404 with a text body, and the connection stays usable") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    Connection conn = Connection::open(server.port());

    Response missing = exchange(conn, make_request("GET", "/missing.html"));
    CHECK(missing.status == 404);
    check_short_text_body(missing);

    Response next = exchange(conn, make_request("GET", "/index.html"));
    CHECK(next.status == 200);
}

TEST_CASE("POST, PUT and DELETE on a file are 405 with Allow: GET, HEAD") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    for (const char* method : {"POST", "PUT", "DELETE"}) {
        SUBCASE(method) {
            Response response =
                fetch(server.port(), make_request(method, "/index.html", "Content-Length: 0\r\n"));
            CHECK(response.status == 405);
            CHECK(response.header("Allow") == "GET, HEAD");
            check_short_text_body(response);
        }
    }
}

TEST_CASE("after a 405 for a POST with a body, its body is not read as a request") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    Connection conn = Connection::open(server.port());
    // The body looks like a request on purpose: a server that forgot to
    // skip it would answer it.
    const std::string body = "GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n";
    conn.send_all(make_request("POST", "/index.html",
                               "Content-Length: " + std::to_string(body.size()) + "\r\n") +
                  body + make_request("GET", "/app.js"));

    Response refused = read_response(conn);
    CHECK(refused.status == 405);
    if (lowercase(refused.header("Connection")) == "close") {
        CHECK(conn.wait_for_close());  // closing instead of skipping is also correct
    } else {
        Response next = read_response(conn);
        CHECK(next.status == 200);
        CHECK(next.body == StaticSite::file("/app.js").content);
    }
}
