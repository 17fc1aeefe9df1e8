// The operator endpoints: /healthz, /metrics, /topics.
#include <doctest/doctest.h>

#include <string>

#include "../support/client.h"
#include "../support/server_process.h"

using namespace sse::test;

namespace {

Response publish(std::uint16_t port, const std::string& topic, const std::string& extra = "") {
    return fetch(port, make_request("POST", "/publish?topic=" + topic, extra + "Content-Length: 1\r\n") + "x");
}

}  // namespace

TEST_CASE("status: /healthz answers ok") {
    ServerProcess server({"--no-demo"});
    Response health = fetch(server.port(), make_request("GET", "/healthz"));
    CHECK(health.status == 200);
    CHECK(health.body == "ok\n");
}

TEST_CASE("status: /metrics counts what happened, in the exposition format") {
    ServerProcess server({"--no-demo"});
    REQUIRE(publish(server.port(), "m").status == 200);
    REQUIRE(publish(server.port(), "m").status == 200);
    Response metrics = fetch(server.port(), make_request("GET", "/metrics"));
    CHECK(metrics.status == 200);
    CHECK(metrics.header("Content-Type").find("text/plain; version=0.0.4") == 0);
    CHECK(metrics.body.find("# TYPE sse_events_published_total counter\n") != std::string::npos);
    CHECK(metrics.body.find("sse_events_published_total 2\n") != std::string::npos);
    CHECK(metrics.body.find("sse_history_events 2\n") != std::string::npos);
    CHECK(metrics.body.find("sse_responses_total{class=\"2xx\"}") != std::string::npos);
    CHECK(metrics.body.find("process_resident_memory_bytes ") != std::string::npos);
    // The three requests so far were read, so bytes read is not 0.
    CHECK(metrics.body.find("# TYPE sse_bytes_read_total counter\n") != std::string::npos);
    CHECK(metrics.body.find("sse_bytes_read_total 0\n") == std::string::npos);
    CHECK(metrics.body.find("sse_deferred_input_pauses_total 0\n") != std::string::npos);
}

TEST_CASE("status: /topics lists topics with history and subscribers") {
    ServerProcess server({"--no-demo"});
    Response first = publish(server.port(), "alpha");
    REQUIRE(first.status == 200);
    Response list = fetch(server.port(), make_request("GET", "/topics"));
    CHECK(list.status == 200);
    CHECK(list.header("Content-Type") == "application/json");
    CHECK(list.body.find("{\"topic\":\"alpha\",\"subscribers\":0,\"last_id\":\"") != std::string::npos);
    CHECK(list.body.find("\"events\":1") != std::string::npos);
    CHECK(fetch(server.port(), make_request("GET", "/topics/alpha")).status == 200);
    CHECK(fetch(server.port(), make_request("GET", "/topics/never-used")).status == 404);
    CHECK(fetch(server.port(), make_request("GET", "/topics/bad%20name")).status == 400);
}

TEST_CASE("status: /topics follows the publishing rule") {
    ServerProcess server({"--no-demo", "--publish-token", "tok"});
    CHECK(fetch(server.port(), make_request("GET", "/topics")).status == 401);
    CHECK(fetch(server.port(), make_request("GET", "/topics", "Authorization: Bearer tok\r\n")).status == 200);
}

TEST_CASE("status: every status answer carries CORS for an allowed origin, none for another") {
    ServerProcess server({"--no-demo", "--cors-origin", "http://allowed.example", "--publish-token", "tok"});
    REQUIRE(publish(server.port(), "alpha", "Authorization: Bearer tok\r\n").status == 200);
    const std::string allowed = "Origin: http://allowed.example\r\n";
    const std::string evil = "Origin: http://evil.example\r\n";
    const std::string token = "Authorization: Bearer tok\r\n";
    for (const std::string target : {"/healthz", "/metrics", "/topics", "/topics/alpha", "/topics/none",
                                     "/topics/bad%20name"}) {
        CAPTURE(target);
        Response ok = fetch(server.port(), make_request("GET", target, allowed + token));
        CHECK(ok.header("Access-Control-Allow-Origin") == "http://allowed.example");
        CHECK(ok.header("Access-Control-Allow-Credentials") == "true");
        Response other = fetch(server.port(), make_request("GET", target, evil + token));
        CHECK_FALSE(other.has("Access-Control-Allow-Origin"));
    }
    // Refused for want of a token: the browser can still read why.
    Response refused = fetch(server.port(), make_request("GET", "/topics", allowed));
    CHECK(refused.status == 401);
    CHECK(refused.header("Access-Control-Allow-Origin") == "http://allowed.example");
    // A browser asks before sending Authorization to /topics.
    Response preflight = fetch(server.port(), make_request("OPTIONS", "/topics/alpha",
                                                           allowed + "Access-Control-Request-Method: GET\r\n"
                                                                     "Access-Control-Request-Headers: authorization\r\n"));
    CHECK(preflight.status == 204);
    CHECK(preflight.header("Access-Control-Allow-Origin") == "http://allowed.example");
    CHECK(preflight.header("Access-Control-Allow-Methods").find("GET") != std::string::npos);
}
