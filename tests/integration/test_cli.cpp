// Starting and stopping the server, and its command line.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "../support/client.h"
#include "../support/server_process.h"

using namespace sse::test;

namespace {

bool is_one_line(const std::string& text) {
    return text.size() > 1 && text.back() == '\n' &&
           std::count(text.begin(), text.end(), '\n') == 1;
}

}  // namespace

TEST_CASE("--port 0 picks a free port, announces it and accepts connections") {
    ServerProcess server;
    CHECK(server.port() != 0);
    CHECK(server.host() == "127.0.0.1");
    Connection conn = Connection::open(server.port());
    CHECK(server.is_running());
}

TEST_CASE("two servers started with --port 0 get different ports") {
    ServerProcess first;
    ServerProcess second;
    CHECK(first.port() != second.port());
}

TEST_CASE("SIGTERM stops an idle server with exit status 0") {
    ServerProcess server;
    CHECK(server.stop() == 0);
    CHECK_FALSE(server.is_running());
}

TEST_CASE("SIGTERM stops a server with open connections with exit status 0") {
    ServerProcess server;
    Connection idle = Connection::open(server.port());
    Connection streaming = Connection::open(server.port());
    Response head = exchange(streaming, make_request("GET", "/random"));
    REQUIRE(head.status == 200);

    CHECK(server.stop() == 0);
    CHECK(streaming.wait_for_close());
    CHECK(idle.wait_for_close());
}

TEST_CASE("--help exits 0 and lists every option") {
    RunResult run = run_to_exit({"--help"});
    INFO("stdout: " << run.out);
    INFO("stderr: " << run.err);
    CHECK(run.exit_status == 0);
    for (const char* option : {"--port", "--bind", "--www", "--version"}) {
        CAPTURE(option);
        CHECK(run.out.find(option) != std::string::npos);
    }
}

TEST_CASE("--version exits 0 and prints a version") {
    RunResult run = run_to_exit({"--version"});
    INFO("stderr: " << run.err);
    CHECK(run.exit_status == 0);
    CHECK_FALSE(run.out.empty());
}

TEST_CASE("a bad flag or value exits 2 with a one-line reason on stderr") {
    const std::vector<std::vector<std::string>> bad_command_lines = {
        {"--nope"},
        {"--port", "abc"},
        {"--port", "70000"},
        {"--port", "-1"},
        {"--port"},
    };
    for (const auto& args : bad_command_lines) {
        std::string joined;
        for (const auto& arg : args) joined += arg + " ";
        SUBCASE(joined.c_str()) {
            RunResult run = run_to_exit(args);
            INFO("stderr: " << run.err);
            CHECK(run.exit_status == 2);
            CHECK(is_one_line(run.err));
        }
    }
}

TEST_CASE("--bind ::1 serves over IPv6") {
    if (!loopback_ipv6_available()) {
        MESSAGE("::1 is not available on this machine; skipping the IPv6 test");
        return;
    }
    ServerProcess server({"--bind", "::1"});
    Connection conn = Connection::open(server.port(), "::1");
    Response head = exchange(conn, make_request("GET", "/random"));
    CHECK(head.status == 200);
    CHECK(head.header("Content-Type") == "text/event-stream");
}
