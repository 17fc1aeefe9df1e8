#include "options.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>

#include "auth/jwt.h"
#include "sse/event_stream.h"
#include "sse/topic_pattern.h"

namespace sse {

namespace {

// One flag: how it is spelled, documented, shown by default and applied.
struct Flag {
    std::string_view group;
    std::string_view name;         // "--port"
    std::string_view value_name;   // "N"; empty for a switch
    std::string_view help;
    std::function<std::string(const Options&)> show_default;
    // Applies the value; returns an error reason, empty on success.
    std::function<std::string(Options&, std::string_view)> apply;
};

template <typename Int>
std::string parse_int(std::string_view text, Int min, Int max, Int& out) {
    Int value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        return "expects a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
               ", not '" + std::string(text) + "'";
    }
    out = value;
    return {};
}

// Sizes in bytes, with an optional K, M or G suffix (powers of 1024).
std::string parse_size(std::string_view text, std::size_t min, std::size_t& out) {
    std::uint64_t multiplier = 1;
    std::string_view digits = text;
    if (!digits.empty()) {
        switch (digits.back()) {
            case 'K': case 'k': multiplier = 1024; break;
            case 'M': case 'm': multiplier = 1024 * 1024; break;
            case 'G': case 'g': multiplier = 1024 * 1024 * 1024; break;
            default: break;
        }
        if (multiplier != 1) digits.remove_suffix(1);
    }
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    constexpr std::uint64_t kMax = std::uint64_t{1} << 40;
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
        value > kMax / multiplier || value * multiplier < min) {
        return "expects a size in bytes of at least " + std::to_string(min) +
               " (suffix K, M or G allowed), not '" + std::string(text) + "'";
    }
    out = static_cast<std::size_t>(value * multiplier);
    return {};
}

std::string show_size(std::size_t bytes) {
    if (bytes % (1024 * 1024) == 0) return std::to_string(bytes / (1024 * 1024)) + "M";
    if (bytes % 1024 == 0) return std::to_string(bytes / 1024) + "K";
    return std::to_string(bytes);
}

std::string set_text(std::string& field, std::string_view value, const char* what) {
    if (value.empty()) return std::string("expects ") + what;
    field = std::string(value);
    return {};
}

// Reads the publish token from `path`: the file's first line, without its
// line end and surrounding blanks. A token in a file is not visible in
// `ps` or /proc/PID/cmdline, as a --publish-token argument is.
std::string read_token_file(std::string& token, std::string_view path) {
    if (path.empty()) return "expects a file name";
    std::ifstream file{std::string(path), std::ios::binary};
    if (!file) return "cannot read '" + std::string(path) + "': " + std::strerror(errno);
    std::string text(kMaxTokenFileBytes + 1, '\0');
    file.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(file.gcount()));
    if (text.size() > kMaxTokenFileBytes) {
        return "'" + std::string(path) + "' is over " + std::to_string(kMaxTokenFileBytes) + " bytes";
    }
    std::string_view line = std::string_view(text).substr(0, text.find_first_of("\r\n"));
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (line.empty()) return "found no token on the first line of '" + std::string(path) + "'";
    token = std::string(line);
    return {};
}

// Reads one HS256 key the same way, and refuses one shorter than the hash:
// a short HMAC key can be guessed offline from any token it signed.
std::string read_jwt_key_file(std::vector<std::string>& keys, std::string_view path) {
    std::string key;
    if (std::string error = read_token_file(key, path); !error.empty()) return error;
    if (key.size() < kMinHs256KeyBytes) {
        return "the key in '" + std::string(path) + "' is " + std::to_string(key.size()) +
               " bytes; HS256 needs at least " + std::to_string(kMinHs256KeyBytes) + " (RFC 7518 section 3.2)";
    }
    keys.push_back(std::move(key));
    return {};
}

const std::vector<Flag>& flags() {
    static const std::vector<Flag> table = {
        {"network", "--port", "N", "TCP port to listen on; 0 picks a free one and prints it",
         [](const Options& o) { return std::to_string(o.port); },
         [](Options& o, std::string_view v) { return parse_int<std::uint16_t>(v, 0, 65535, o.port); }},
        {"network", "--bind", "ADDR", "numeric IPv4 or IPv6 address to listen on ('::' is every address)",
         [](const Options& o) { return o.bind; },
         [](Options& o, std::string_view v) {
             if (v.empty()) return std::string("expects an address");
             o.bind = std::string(v);
             return std::string();
         }},
        {"network", "--reuse-port", "", "set SO_REUSEPORT so several instances share one port (one per core)",
         [](const Options&) { return std::string("off"); },
         [](Options& o, std::string_view) { o.reuse_port = true; return std::string(); }},
        {"network", "--redis", "HOST:PORT", "share events with other instances through a Redis Stream",
         [](const Options&) { return std::string("off: this instance alone"); },
         [](Options& o, std::string_view v) {
             std::size_t colon = v.rfind(':');
             if (colon == std::string_view::npos || colon == 0 || colon + 1 == v.size())
                 return std::string("expects HOST:PORT, such as 127.0.0.1:6379");
             o.redis = std::string(v);
             return std::string();
         }},
        {"network", "--redis-key", "NAME", "the Redis Stream's key",
         [](const Options& o) { return o.redis_key; },
         [](Options& o, std::string_view v) { return set_text(o.redis_key, v, "a key name"); }},
        {"network", "--www", "DIR", "folder of static files served at /",
         [](const Options&) { return std::string("www/ beside the executable, else ./www"); },
         [](Options& o, std::string_view v) { return set_text(o.www, v, "a folder"); }},

        {"streams", "--retry-ms", "MS", "reconnection delay sent to browsers, jittered +-20% per stream",
         [](const Options& o) { return std::to_string(o.retry_ms); },
         [](Options& o, std::string_view v) { return parse_int<std::uint32_t>(v, kMinRetryMs, kMaxRetryMs, o.retry_ms); }},
        {"streams", "--heartbeat-ms", "MS", "comment sent on a stream quiet for this long",
         [](const Options& o) { return std::to_string(o.heartbeat_ms); },
         [](Options& o, std::string_view v) { return parse_int<std::uint32_t>(v, 10, 3'600'000, o.heartbeat_ms); }},
        {"streams", "--max-stream-age", "SECONDS", "end each stream after this long (0: never); clients resume",
         [](const Options& o) { return std::to_string(o.max_stream_age_s); },
         [](Options& o, std::string_view v) { return parse_int<std::uint32_t>(v, 0, 86'400 * 365, o.max_stream_age_s); }},
        {"streams", "--presence-interval-ms", "MS",
         "at most one presence event per topic per MS; with --redis, how often instances exchange counts",
         [](const Options& o) { return std::to_string(o.presence_interval_ms); },
         [](Options& o, std::string_view v) { return parse_int<std::uint32_t>(v, 10, 3'600'000, o.presence_interval_ms); }},
        {"streams", "--no-demo", "", "do not publish the demo news, weather and stock topics",
         [](const Options&) { return std::string("demo on"); },
         [](Options& o, std::string_view) { o.demo = false; return std::string(); }},

        {"history", "--history", "N", "events kept per topic for Last-Event-ID replay",
         [](const Options& o) { return std::to_string(o.history); },
         [](Options& o, std::string_view v) { return parse_int<std::size_t>(v, 0, 10'000'000, o.history); }},
        {"history", "--history-bytes", "BYTES", "all topics' history together, oldest events dropped first",
         [](const Options& o) { return show_size(o.history_bytes); },
         [](Options& o, std::string_view v) { return parse_size(v, 0, o.history_bytes); }},

        {"limits", "--max-buffer", "BYTES", "pending output of one stream; a subscriber past it is dropped",
         [](const Options& o) { return show_size(o.max_buffer); },
         [](Options& o, std::string_view v) { return parse_size(v, 1024, o.max_buffer); }},
        {"limits", "--max-event-bytes", "BYTES", "largest publish body (413 beyond)",
         [](const Options& o) { return show_size(o.max_event_bytes); },
         [](Options& o, std::string_view v) { return parse_size(v, 1, o.max_event_bytes); }},

        {"limits", "--max-conns", "N", "open connections at most; past it new ones get 503 and Retry-After",
         [](const Options&) { return std::string("the fd limit less a reserve"); },
         [](Options& o, std::string_view v) { return parse_int<std::size_t>(v, 1, 100'000'000, o.max_conns); }},
        {"limits", "--header-timeout-ms", "MS", "a request's headers must arrive within this long of its first byte (408)",
         [](const Options& o) { return std::to_string(o.header_timeout_ms); },
         [](Options& o, std::string_view v) { return parse_int<std::uint32_t>(v, 1, 3'600'000, o.header_timeout_ms); }},
        {"limits", "--body-timeout-ms", "MS", "a request's body must arrive within this long of its headers (408)",
         [](const Options& o) { return std::to_string(o.body_timeout_ms); },
         [](Options& o, std::string_view v) { return parse_int<std::uint32_t>(v, 1, 3'600'000, o.body_timeout_ms); }},
        {"limits", "--idle-timeout-ms", "MS", "an idle keep-alive connection, or a stream stuck unread, is closed after this long",
         [](const Options& o) { return std::to_string(o.idle_timeout_ms); },
         [](Options& o, std::string_view v) { return parse_int<std::uint32_t>(v, 1, 86'400'000, o.idle_timeout_ms); }},
        {"limits", "--shutdown-ms", "MS", "on SIGTERM/SIGINT, time allowed to flush streams before exiting",
         [](const Options& o) { return std::to_string(o.shutdown_ms); },
         [](Options& o, std::string_view v) { return parse_int<std::uint32_t>(v, 0, 600'000, o.shutdown_ms); }},

        {"security", "--publish-token", "TOKEN",
         "POST/DELETE /publish need 'Authorization: Bearer TOKEN'; without it only loopback peers may publish",
         [](const Options&) { return std::string("none: loopback only"); },
         [](Options& o, std::string_view v) { return set_text(o.publish_token, v, "a token"); }},
        {"security", "--publish-token-file", "FILE",
         "read the publish token from the first line of FILE (not visible in ps, unlike --publish-token)",
         [](const Options&) { return std::string("none"); },
         [](Options& o, std::string_view v) { return read_token_file(o.publish_token, v); }},
        {"security", "--cors-origin", "ORIGIN", "allow this origin (repeatable; '*' allows any) cross-origin, with credentials",
         [](const Options&) { return std::string("none"); },
         [](Options& o, std::string_view v) {
             if (v.empty()) return std::string("expects an origin such as https://example.com or *");
             o.cors_origins.emplace_back(v);
             return std::string();
         }},

        {"private topics", "--jwt-key-file", "FILE",
         "HS256 key (the first line of FILE, at least 32 bytes) for subscriber tokens; repeatable, to rotate keys; "
         "with one, topics are private unless --public",
         [](const Options&) { return std::string("none: every topic is public"); },
         [](Options& o, std::string_view v) { return read_jwt_key_file(o.jwt_keys, v); }},
        {"private topics", "--jwt-cookie", "NAME", "the cookie a token may come in (what EventSource sends)",
         [](const Options& o) { return o.jwt_cookie; },
         [](Options& o, std::string_view v) { return set_text(o.jwt_cookie, v, "a cookie name"); }},
        {"private topics", "--jwt-leeway", "SECONDS", "clock skew allowed when checking exp and nbf",
         [](const Options& o) { return std::to_string(o.jwt_leeway_s); },
         [](Options& o, std::string_view v) { return parse_int<std::uint32_t>(v, 0, 3600, o.jwt_leeway_s); }},
        {"private topics", "--jwt-audience", "AUD", "tokens must name this audience in their aud claim",
         [](const Options&) { return std::string("none: aud is not checked"); },
         [](Options& o, std::string_view v) { return set_text(o.jwt_audience, v, "an audience"); }},
        {"private topics", "--public", "PATTERN", "topics matching PATTERN stay public when keys are set; repeatable",
         [](const Options&) { return std::string("none"); },
         [](Options& o, std::string_view v) {
             if (!is_valid_pattern(v)) return "expects a topic pattern (" + pattern_rule() + ")";
             o.public_patterns.emplace_back(v);
             return std::string();
         }},

        {"logging", "--access-log", "", "print one line per request or finished stream to stderr",
         [](const Options&) { return std::string("off"); },
         [](Options& o, std::string_view) { o.access_log = true; return std::string(); }},
        {"logging", "--quiet", "", "print no start-up or shutdown lines (errors are still printed)",
         [](const Options&) { return std::string("off"); },
         [](Options& o, std::string_view) { o.quiet = true; return std::string(); }},
    };
    return table;
}

const Flag* find_flag(std::string_view name) {
    for (const Flag& flag : flags())
        if (flag.name == name) return &flag;
    return nullptr;
}

ParseOutcome usage_error(std::string reason) {
    return ParseOutcome{false, 2, "sse-server: " + reason + " (see --help)"};
}

}  // namespace

ParseOutcome parse_options(const std::vector<std::string_view>& args, Options& options) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view arg = args[i];
        if (arg == "--help" || arg == "-h") return ParseOutcome{false, 0, help_text()};
        if (arg == "--version") {
            return ParseOutcome{false, 0, "sse-server " + std::string(kVersion) + "\n"};
        }
        std::string_view value;
        bool has_inline_value = false;
        if (auto eq = arg.find('='); eq != std::string_view::npos && arg.starts_with("--")) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_inline_value = true;
        }
        const Flag* flag = find_flag(arg);
        if (!flag) return usage_error("unknown option '" + std::string(arg) + "'");
        if (flag->value_name.empty()) {
            if (has_inline_value) return usage_error(std::string(arg) + " takes no value");
        } else if (!has_inline_value) {
            if (i + 1 >= args.size()) return usage_error(std::string(arg) + " needs a value");
            value = args[++i];
        }
        std::string error = flag->apply(options, value);
        if (!error.empty()) return usage_error(std::string(arg) + " " + error);
    }
    return ParseOutcome{};
}

std::string help_text() {
    std::string text =
        "Usage: sse-server [options]\n"
        "A Server-Sent Events hub: GET /latest/<topic> streams, POST /publish publishes,\n"
        "GET /random streams random numbers, and the www/ folder is served at /.\n";
    const Options defaults;
    std::string_view group;
    for (const Flag& flag : flags()) {
        if (flag.group != group) {
            group = flag.group;
            text += "\n" + std::string(group) + ":\n";
        }
        std::string left = "  " + std::string(flag.name);
        if (!flag.value_name.empty()) left += " " + std::string(flag.value_name);
        if (left.size() < 24) left.resize(24, ' ');
        else left += "\n" + std::string(24, ' ');
        text += left + std::string(flag.help);
        std::string shown = flag.show_default(defaults);
        if (!shown.empty()) text += " (default: " + shown + ")";
        text += "\n";
    }
    text += "\nother:\n"
            "  --help                show this help and exit\n"
            "  --version             print the version and exit\n";
    return text;
}

}  // namespace sse
