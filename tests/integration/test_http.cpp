// HTTP/1.1 connection handling: keep-alive, pipelining, HTTP/1.0, requests
// split into many small writes. Served files come from a StaticSite.
#include <doctest/doctest.h>

#include <cctype>
#include <string>

#include "../support/client.h"
#include "../support/server_process.h"
#include "../support/static_site.h"

using namespace sse::test;

namespace {

// "Name: value" lines without Date, which legitimately differs between two
// responses; a string so that a failed comparison prints readably.
std::string headers_without_date(const Response& response) {
    std::string lines;
    for (const auto& [name, value] : response.headers) {
        if (!CaseInsensitiveLess{}(name, "Date") && !CaseInsensitiveLess{}("Date", name)) continue;
        lines += name + ": " + value + "\n";
    }
    return lines;
}

std::string lowercase(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

}  // namespace

TEST_CASE("two requests on one keep-alive connection are both answered") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    Connection conn = Connection::open(server.port());

    Response first = exchange(conn, make_request("GET", "/index.html"));
    CHECK(first.status == 200);
    CHECK(first.body == StaticSite::file("/index.html").content);
    CHECK(lowercase(first.header("Connection")) != "close");

    Response second = exchange(conn, make_request("GET", "/style.css"));
    CHECK(second.status == 200);
    CHECK(second.body == StaticSite::file("/style.css").content);
}

TEST_CASE("three pipelined requests in one write are answered in order") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    Connection conn = Connection::open(server.port());
    const std::string targets[] = {"/index.html", "/style.css", "/app.js"};

    std::string pipelined;
    for (const auto& target : targets) pipelined += make_request("GET", target);
    conn.send_all(pipelined);

    for (const auto& target : targets) {
        CAPTURE(target);
        Response response = read_response(conn);
        CHECK(response.status == 200);
        CHECK(response.body == StaticSite::file(target).content);
    }
}

TEST_CASE("a HEAD then a GET pipelined: the HEAD answer has no body") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    Connection conn = Connection::open(server.port());
    conn.send_all(make_request("HEAD", "/index.html") + make_request("GET", "/style.css"));

    Response head = read_response(conn, /*head_request=*/true);
    CHECK(head.status == 200);
    // Body bytes after the HEAD answer would be parsed as the next status line.
    Response get = read_response(conn);
    CHECK(get.status == 200);
    CHECK(get.body == StaticSite::file("/style.css").content);
}

TEST_CASE("HTTP/1.1 with Connection: close is answered, then closed") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    Connection conn = Connection::open(server.port());

    Response response = exchange(conn, make_request("GET", "/index.html", "Connection: close\r\n"));
    CHECK(response.status == 200);
    CHECK(response.body == StaticSite::file("/index.html").content);
    CHECK(conn.wait_for_close());
}

TEST_CASE("HTTP/1.0 without Host is answered, then the server closes") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    Connection conn = Connection::open(server.port());

    Response response = exchange(conn, "GET /index.html HTTP/1.0\r\n\r\n");
    CHECK(response.status == 200);
    CHECK(response.body == StaticSite::file("/index.html").content);
    CHECK(conn.wait_for_close());
}

TEST_CASE("HTTP/1.0 with Connection: keep-alive keeps the connection open") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    Connection conn = Connection::open(server.port());
    const std::string request = "GET /index.html HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";

    Response first = exchange(conn, request);
    CHECK(first.status == 200);
    CHECK(lowercase(first.header("Connection")) == "keep-alive");

    Response second = exchange(conn, "GET /style.css HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    CHECK(second.status == 200);
    CHECK(second.body == StaticSite::file("/style.css").content);
}

TEST_CASE("a request sent one byte per write gets the same answer as sent whole") {
    StaticSite site;
    ServerProcess server({"--www", site.www_dir()});
    const std::string requests[] = {
        make_request("GET", "/index.html", "Accept: text/html\r\nUser-Agent: byte-test\r\n"),
        make_request("GET", "/missing.html"),
    };
    for (const auto& request : requests) {
        CAPTURE(request);
        Response whole = fetch(server.port(), request);

        Connection conn = Connection::open(server.port());
        conn.send_byte_by_byte(request);
        Response bytewise = read_response(conn);

        CHECK(bytewise.status == whole.status);
        CHECK(headers_without_date(bytewise) == headers_without_date(whole));
        CHECK(bytewise.body == whole.body);
    }
}
