// CorsPolicy: echo allowed origins with credentials, say nothing otherwise.
#include <doctest/doctest.h>

#include <string>

#include "http/cors.h"

using sse::CorsPolicy;
using sse::HeaderList;

namespace {

std::string header(const HeaderList& headers, const std::string& name) {
    for (const auto& [n, v] : headers)
        if (n == name) return v;
    return "";
}

bool has_cors_header(const HeaderList& headers) {
    for (const auto& [n, v] : headers)
        if (n.rfind("Access-Control-", 0) == 0) return true;
    return false;
}

}  // namespace

TEST_CASE("no configured origin: no CORS headers at all") {
    CorsPolicy policy({});
    CHECK_FALSE(policy.enabled());
    CHECK(policy.response_headers("https://a.example").empty());
    CHECK(policy.preflight_headers("https://a.example", "GET").empty());
}

TEST_CASE("an allowed origin is echoed with credentials and Vary") {
    CorsPolicy policy({"https://a.example", "http://localhost:3000"});
    HeaderList h = policy.response_headers("https://a.example");
    CHECK(header(h, "Access-Control-Allow-Origin") == "https://a.example");
    CHECK(header(h, "Access-Control-Allow-Credentials") == "true");
    CHECK(header(h, "Vary") == "Origin");
    // A page may read that a publish was a repeat, when to retry, and why.
    CHECK(header(h, "Access-Control-Expose-Headers") == "Idempotent-Replayed, Retry-After, WWW-Authenticate");
}

TEST_CASE("a disallowed origin gets no Access-Control header") {
    CorsPolicy policy({"https://a.example"});
    for (const char* origin : {"https://b.example", "https://a.example.evil", "null", "http://a.example"}) {
        CAPTURE(origin);
        CHECK_FALSE(has_cors_header(policy.response_headers(origin)));
        CHECK_FALSE(has_cors_header(policy.preflight_headers(origin, "GET")));
    }
    CHECK(policy.response_headers("").empty());  // same-origin request: nothing to say
}

TEST_CASE("'*' allows any origin but still echoes it, never '*'") {
    CorsPolicy policy({"*"});
    HeaderList h = policy.response_headers("https://anywhere.example");
    CHECK(header(h, "Access-Control-Allow-Origin") == "https://anywhere.example");
    CHECK(header(h, "Access-Control-Allow-Credentials") == "true");
}

TEST_CASE("a preflight lists methods and the request headers streams need") {
    CorsPolicy policy({"https://a.example"});
    HeaderList h = policy.preflight_headers("https://a.example", "POST, DELETE");
    CHECK(header(h, "Access-Control-Allow-Methods") == "POST, DELETE");
    CHECK(header(h, "Access-Control-Allow-Headers") == "Last-Event-ID, Authorization, Content-Type, Idempotency-Key");
    CHECK(header(h, "Access-Control-Max-Age") == "600");
    CHECK(header(h, "Access-Control-Allow-Origin") == "https://a.example");
}
