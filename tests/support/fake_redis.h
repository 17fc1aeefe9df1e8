// A stand-in for Redis that the test drives by hand, for --redis tests that
// need Redis to be slow: it listens on a loopback port, accepts the links
// the server opens and hands the test each command they send. The test
// decides what to answer, and when; a command never answered (an XADD)
// keeps the publish that sent it waiting for its deferred answer.
//
// Commands are read as RESP arrays of bulk strings, the only form the
// server sends. Every wait takes a deadline and throws TimeoutError.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "client.h"

namespace sse::test {

class FakeRedis {
public:
    // One command and the link it came on (pass it to reply()).
    struct Command {
        std::size_t link = 0;
        std::vector<std::string> words;  // e.g. {"XADD", "sse:events", ...}
    };

    // Listens on 127.0.0.1 on a free port. Throws std::runtime_error.
    FakeRedis();
    ~FakeRedis();
    FakeRedis(const FakeRedis&) = delete;
    FakeRedis& operator=(const FakeRedis&) = delete;

    std::uint16_t port() const { return port_; }
    // "127.0.0.1:<port>", the value for --redis.
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

    // The next command sent on any link, accepting new links meanwhile.
    Command next_command(Deadline deadline = deadline_in(kGuardTimeout));
    // Writes `resp` (raw RESP, e.g. "*0\r\n") on the command's link.
    void reply(const Command& command, std::string_view resp);

    // Plays Redis for a server that has just started with --redis address():
    // answers its history load (XREVRANGE) with an empty stream, leaves its
    // first XREAD blocking forever, and returns once the server's /healthz
    // says both links are up.
    void bring_up(std::uint16_t server_port);

private:
    struct Link {
        int fd = -1;
        std::string input;  // received, not yet parsed
    };
    // A whole command taken off the front of `link.input`, if it holds one.
    static bool take_command(Link& link, std::vector<std::string>& words);

    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    std::vector<Link> links_;
};

}  // namespace sse::test
