// Command-line options: one table of flags, parsed by one function that
// touches nothing outside its arguments except the file named by
// --publish-token-file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sse {

inline constexpr std::string_view kVersion = "0.1.0";

// A --publish-token-file longer than this is refused: a token is a line,
// and a big file is surely the wrong one.
inline constexpr std::size_t kMaxTokenFileBytes = 4096;

struct Options {
    // network
    std::string bind = "::";          // all interfaces, IPv6 and IPv4
    std::uint16_t port = 8000;
    bool reuse_port = false;          // SO_REUSEPORT: several instances, one port
    std::string redis;                // "host:port": share events through Redis
    std::string redis_key = "sse:events";
    // streams
    std::uint32_t retry_ms = 3000;    // "retry:" hint, jittered +-20% per stream
    std::uint32_t heartbeat_ms = 15000;
    std::uint32_t max_stream_age_s = 0;  // 0: streams live until closed
    bool demo = true;                 // publish demo news/weather/stock
    std::uint32_t presence_interval_ms = 1000;  // presence events per topic, at most one per this
    // history
    std::size_t history = 1000;       // events kept per topic
    std::size_t history_bytes = 64 * 1024 * 1024;
    // limits
    std::size_t max_buffer = 1024 * 1024;   // pending output per stream
    std::size_t max_event_bytes = 64 * 1024; // request body of a publish
    std::size_t max_conns = 0;              // 0: what the fd limit allows
    std::uint32_t header_timeout_ms = 10'000;
    std::uint32_t body_timeout_ms = 30'000;
    std::uint32_t idle_timeout_ms = 60'000;
    std::uint32_t shutdown_ms = 2000;
    // security
    std::string publish_token;        // empty: only loopback peers publish
    std::vector<std::string> cors_origins;
    // private topics (see app/access.h)
    std::vector<std::string> jwt_keys;    // HS256 secrets; none: every topic is public
    std::string jwt_cookie = "sse_token"; // cookie a browser's EventSource sends its token in
    std::uint32_t jwt_leeway_s = 5;       // clock skew allowed on exp and nbf
    std::string jwt_audience;             // empty: "aud" is not checked
    std::vector<std::string> public_patterns;  // with keys, topics matching these stay public
    // files
    std::string www;                  // empty: the www/ folder beside the binary
    // logging
    bool access_log = false;
    bool quiet = false;
};

// What main() should do after parsing.
struct ParseOutcome {
    bool run = true;       // false: print `message` and exit with `exit_code`
    int exit_code = 0;     // 0 for --help/--version, 2 for a bad flag or value
    std::string message;   // help or version text, or a one-line reason
};

// Parses argv[1..] into `options`. Pure: prints nothing, exits nothing.
ParseOutcome parse_options(const std::vector<std::string_view>& args, Options& options);

// The --help text: every flag, grouped, with its default.
std::string help_text();

}  // namespace sse
