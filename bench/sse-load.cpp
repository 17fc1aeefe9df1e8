// sse-load: a load generator for Server-Sent Events servers.
//
// One file, no dependency beyond Linux and the C++ standard library, so it can
// be read top to bottom like the server. Three modes:
//
//   sub    hold N event streams open, parse them incrementally, measure the
//          publish-to-receive latency of every event and count events that
//          went missing, came twice or came out of order;
//   pub    publish K events at a set rate over keep-alive connections; each
//          event carries its topic, a per-topic sequence number and the
//          CLOCK_MONOTONIC time it was sent, which is what `sub` reads back;
//   churn  open a stream, wait for its first bytes, close it, repeat: the rate
//          at which a server sets streams up and tears them down.
//
// Each mode prints ONE JSON object on stdout (for scripts) and, about once a
// second, a progress line on stderr (for people). `sse-load --help` says all.
//
// Sections:
//    1. Clock, signals and small text helpers
//    2. Options and --help
//    3. Histogram: percentiles in bounded memory
//    4. Sockets: URL, loopback source addresses, non-blocking connect
//    5. HTTP: response heads and the chunked transfer coding
//    6. The event-stream parser
//    7. Payload: what pub writes and sub reads back
//    8. Sequence tracking: missing, duplicated, out of order
//    9. Output: JSON summary and progress lines
//   10. sub mode
//   11. churn mode
//   12. pub mode
//   13. main

#include <algorithm>
#include <arpa/inet.h>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace {

// ===========================================================================
// 1. Clock, signals and small text helpers
// ===========================================================================

// CLOCK_MONOTONIC, not the wall clock: publisher and subscriber run on the
// same machine, so they share it, and it never jumps.
std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

constexpr std::int64_t kNsPerSecond = 1'000'000'000;

// CPU seconds this process has used (user + system): tells a reader whether
// the load generator, rather than the server, was the bottleneck.
double own_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](timeval tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Set by SIGINT/SIGTERM. The handlers are installed without SA_RESTART, so
// epoll_wait returns EINTR at once and the loop sees the flag.
volatile std::sig_atomic_t g_stop = 0;

void on_stop_signal(int) { g_stop = 1; }

void install_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);  // a peer that closes must not kill us
}

// Many streams need many descriptors; the soft limit is often 1024 while the
// hard limit is far higher, and raising the soft one needs no privilege.
std::uint64_t raise_fd_limit() {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
    return limit.rlim_cur;
}

std::string errno_name(int error) {
    switch (error) {
        case ECONNREFUSED: return "ECONNREFUSED";
        case ECONNRESET: return "ECONNRESET";
        case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
        case EMFILE: return "EMFILE";
        case ENFILE: return "ENFILE";
        case ETIMEDOUT: return "ETIMEDOUT";
        case EPIPE: return "EPIPE";
        default: return "errno " + std::to_string(error);
    }
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x | 0x20) == (y | 0x20);  // ASCII letters only, enough for header names
           });
}

template <class Number>
std::optional<Number> parse_number(std::string_view text) {
    Number value{};
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    while (true) {
        std::size_t at = text.find(separator);
        parts.emplace_back(text.substr(0, at));
        if (at == std::string_view::npos) return parts;
        text.remove_prefix(at + 1);
    }
}

std::string join(const std::vector<std::string>& parts, char separator) {
    std::string out;
    for (const std::string& part : parts) {
        if (!out.empty()) out += separator;
        out += part;
    }
    return out;
}

// Replaces every occurrence of `name` (e.g. "{topic}") in `pattern`.
std::string substitute(std::string pattern, std::string_view name, std::string_view value) {
    for (std::size_t at = pattern.find(name); at != std::string::npos; at = pattern.find(name, at + value.size())) {
        pattern.replace(at, name.size(), value);
    }
    return pattern;
}

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "sse-load: %s\n", message.c_str());
    std::exit(2);
}

// ===========================================================================
// 2. Options and --help
// ===========================================================================

enum class Mode { Sub, Pub, Churn };

struct Options {
    Mode mode = Mode::Sub;
    std::string url;                             // required; see --help
    double duration_s = 10;                      // hard bound for every mode
    std::vector<std::string> topics{"bench"};    // the topic pool
    std::size_t sources = 16;                    // loopback source addresses
    bool quiet = false;                          // no progress lines
    std::string label;                           // copied into the JSON summary
    // sub
    std::size_t streams = 100;
    std::size_t per_stream = 1;                  // topics per stream, from the pool
    std::uint64_t expect = 0;                    // events per stream; 0: no goal
    std::size_t connect_concurrency = 500;       // connections not yet streaming
    double connect_rate = 0;                     // new connections per second; 0: no cap
    std::string ready_file;
    // churn
    std::size_t concurrency = 50;
    std::uint64_t cycles = 0;                    // 0: until --duration
    // pub
    std::uint64_t events = 100;
    double rate = 0;                             // events per second; 0: closed loop
    std::size_t connections = 1;
    std::size_t size = 0;                        // padding bytes per event
};

constexpr const char* kUsage = R"(Usage: sse-load MODE --url URL [options]

A load generator for Server-Sent Events servers. Loopback (127.0.0.0/8) only.

Modes:
  sub    hold --streams event streams open, parse them, and measure
         publish-to-receive latency and missing/duplicated/out-of-order events
         (the events must come from `sse-load pub`, whose payload carries a
         timestamp and a sequence number)
  pub    publish --events events to the URL with POST
  churn  open a stream, wait for its head and first body byte, close, repeat;
         measures how fast a server sets up and tears down streams

URL:
  http://127.0.0.1:PORT/PATH (numeric IPv4 only). In PATH, {topics} (or its
  alias {topic}) is replaced per stream by its topics joined with commas
  (sub, churn) or per event by the event's topic (pub). Examples:
    sub:  http://127.0.0.1:8000/latest/{topic}
    sub:  http://127.0.0.1:8000/latest?type={topics}   with --per-stream 3
    pub:  http://127.0.0.1:8000/publish?topic={topic}

Common options:
  --duration S            stop after S seconds at most (default 10)
  --topics a,b,c          the topic pool (default bench)
  --sources N             spread connections over source addresses 127.0.0.1
                          .. 127.0.0.N, bound before connect(), so more than
                          the ~28,000 ephemeral ports of one address can be
                          used; 0 lets the kernel choose (default 16)
  --label TEXT            copied into the JSON summary as "label"
  --quiet                 no progress lines on stderr
  --help                  this text

sub options:
  --streams N             streams to open (default 100)
  --per-stream M          topics per stream: stream i takes pool entries
                          i*M .. i*M+M-1 (mod pool size) (default 1)
  --expect K              stop once every stream has K events (default: no goal)
  --connect-concurrency C at most C connections between connect() and the end
                          of their response head (default 500)
  --connect-rate R        at most R new connections per second (default: no cap)
  --ready-file PATH       write "open N failed F" to PATH once every stream has
                          its response head or has failed: the moment to start
                          publishing

churn options:
  --concurrency C         cycles running at once (default 50)
  --cycles N              stop after N cycles (default: run for --duration)

pub options:
  --events K              events to publish (default 100), spread round-robin
                          over the topics; seq counts from 1 per topic
  --rate R                events per second over all connections; 0 sends the
                          next event as soon as the previous answer came
                          (default 0)
  --connections M         keep-alive connections (default 1). Topic j always
                          uses connection j mod M and waits for each answer,
                          so the server sees every topic's events in order;
                          more connections than topics are not used
  --size B                padding bytes in each event's data (default 0)

Payload written by pub, read by sub (one line of JSON):
  {"topic":"T","seq":N,"due":NS,"t":NS,"pad":"xxxx"}   (CLOCK_MONOTONIC; due:
  when --rate scheduled the event, t: when it was written)

Summary (stdout, one JSON object):
  sub:   streams, streams_open (had a 200 head), streams_failed, closed_early,
         connect_ms {p50,p99,max} (connect() to end of response head),
         events, deliveries_per_s (events / time from first to last event),
         latency_us {p50,p90,p99,max} (from t), latency_from_schedule_us
         {p50,p90,p99,max} (from due: also counts time an event waited
         to be sent because the server answered late), errors, error_kinds, missing,
         duplicated, out_of_order, incomplete_streams (with --expect),
         client_cpu_s
  pub:   published (2xx answers), failed, duration_s (first send to last
         answer), publishes_per_s, answer_ms {p50,p99,max}, client_cpu_s
  churn: cycles, failed, cycles_per_s, setup_ms {p50,p99,max}, error_kinds,
         client_cpu_s

Exit status: 0 when the run ended normally (even with errors: they are in the
summary), 2 for a bad option.
)";

struct OptionParser {
    std::vector<std::string_view> args;
    std::size_t next = 0;

    bool done() const { return next >= args.size(); }

    // Splits "--name=value" or "--name value"; flags take no value.
    std::pair<std::string_view, std::string_view> take(bool (*is_flag)(std::string_view)) {
        std::string_view arg = args[next++];
        std::size_t eq = arg.find('=');
        if (eq != std::string_view::npos) return {arg.substr(0, eq), arg.substr(eq + 1)};
        if (is_flag(arg)) return {arg, {}};
        if (done()) die("option " + std::string(arg) + " needs a value");
        return {arg, args[next++]};
    }
};

bool is_flag(std::string_view name) { return name == "--quiet" || name == "--help"; }

template <class Number>
Number number_option(std::string_view name, std::string_view value) {
    std::optional<Number> number = parse_number<Number>(value);
    if (!number || *number < 0) die("bad value for " + std::string(name) + ": '" + std::string(value) + "'");
    return *number;
}

void apply_option(Options& o, std::string_view name, std::string_view value) {
    if (name == "--url") o.url = value;
    else if (name == "--duration") o.duration_s = number_option<double>(name, value);
    else if (name == "--topics") o.topics = split(value, ',');
    else if (name == "--sources") o.sources = number_option<std::size_t>(name, value);
    else if (name == "--label") o.label = value;
    else if (name == "--quiet") o.quiet = true;
    else if (name == "--streams") o.streams = number_option<std::size_t>(name, value);
    else if (name == "--per-stream") o.per_stream = number_option<std::size_t>(name, value);
    else if (name == "--expect") o.expect = number_option<std::uint64_t>(name, value);
    else if (name == "--connect-concurrency") o.connect_concurrency = number_option<std::size_t>(name, value);
    else if (name == "--connect-rate") o.connect_rate = number_option<double>(name, value);
    else if (name == "--ready-file") o.ready_file = value;
    else if (name == "--concurrency") o.concurrency = number_option<std::size_t>(name, value);
    else if (name == "--cycles") o.cycles = number_option<std::uint64_t>(name, value);
    else if (name == "--events") o.events = number_option<std::uint64_t>(name, value);
    else if (name == "--rate") o.rate = number_option<double>(name, value);
    else if (name == "--connections") o.connections = number_option<std::size_t>(name, value);
    else if (name == "--size") o.size = number_option<std::size_t>(name, value);
    else die("unknown option " + std::string(name) + " (see --help)");
}

Options parse_options(int argc, char** argv) {
    OptionParser parser{{argv + 1, argv + argc}};
    if (parser.done() || parser.args[0] == "--help") {
        std::fputs(kUsage, stdout);
        std::exit(parser.done() ? 2 : 0);
    }
    Options o;
    std::string_view mode = parser.args[parser.next++];
    if (mode == "sub") o.mode = Mode::Sub;
    else if (mode == "pub") o.mode = Mode::Pub;
    else if (mode == "churn") o.mode = Mode::Churn;
    else die("unknown mode '" + std::string(mode) + "' (sub, pub or churn; see --help)");
    while (!parser.done()) {
        auto [name, value] = parser.take(is_flag);
        if (name == "--help") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        }
        apply_option(o, name, value);
    }
    if (o.url.empty()) die("--url is required (see --help)");
    if (o.topics.empty() || std::any_of(o.topics.begin(), o.topics.end(), [](auto& t) { return t.empty(); })) {
        die("--topics needs non-empty names");
    }
    if (o.per_stream == 0 || o.connections == 0 || o.concurrency == 0 || o.connect_concurrency == 0) {
        die("--per-stream, --connections, --concurrency and --connect-concurrency must be at least 1");
    }
    return o;
}

// ===========================================================================
// 3. Histogram: percentiles in bounded memory
// ===========================================================================

// A log-linear histogram (the idea of HdrHistogram): values below 128 have a
// bucket each; above, every power of two is cut into 64 equal buckets, so a
// reported percentile is within 1/64 (1.6%) of the truth whatever the range,
// and ten million samples cost the same 30 KiB as ten.
class Histogram {
public:
    void add(std::uint64_t value) {
        ++counts_[index(value)];
        ++count_;
        max_ = std::max(max_, value);
    }

    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return max_; }

    // The value below which `percent` of the samples lie (bucket midpoint).
    std::uint64_t percentile(double percent) const {
        if (count_ == 0) return 0;
        auto rank = static_cast<std::uint64_t>(percent / 100.0 * static_cast<double>(count_) + 0.999999);
        rank = std::clamp<std::uint64_t>(rank, 1, count_);
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= rank) return std::min(max_, (lowest(i) + highest(i)) / 2);
        }
        return max_;
    }

private:
    static constexpr int kLinear = 128;        // exact buckets for 0..127
    static constexpr int kSubBuckets = 64;     // per power of two above
    static constexpr int kBuckets = kLinear + 57 * kSubBuckets;

    static std::size_t index(std::uint64_t value) {
        if (value < kLinear) return value;
        int shift = static_cast<int>(std::bit_width(value)) - 7;  // keeps 7 significant bits: 64..127
        auto mantissa = static_cast<int>(value >> shift);
        return kLinear + (shift - 1) * kSubBuckets + (mantissa - kSubBuckets);
    }
    static std::uint64_t lowest(std::size_t i) {
        if (i < kLinear) return i;
        std::size_t j = i - kLinear;
        std::size_t shift = j / kSubBuckets + 1;
        return (j % kSubBuckets + kSubBuckets) << shift;
    }
    static std::uint64_t highest(std::size_t i) {
        return i < kLinear ? i : lowest(i) + (std::uint64_t{1} << ((i - kLinear) / kSubBuckets + 1)) - 1;
    }

    std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(kBuckets);
    std::uint64_t count_ = 0;
    std::uint64_t max_ = 0;
};

// ===========================================================================
// 4. Sockets: URL, loopback source addresses, non-blocking connect
// ===========================================================================

struct Target {
    sockaddr_in address{};
    std::string host;          // for the Host header
    std::string path_pattern;  // may hold {topic} / {topics}
};

Target parse_url(std::string_view url) {
    if (url.starts_with("http://")) url.remove_prefix(7);
    std::size_t slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    Target target;
    target.host = authority;
    target.path_pattern = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
    std::size_t colon = authority.rfind(':');
    std::string ip(authority.substr(0, colon));
    std::optional<std::uint16_t> port =
        colon == std::string_view::npos ? 80 : parse_number<std::uint16_t>(authority.substr(colon + 1));
    target.address.sin_family = AF_INET;
    if (!port || inet_pton(AF_INET, ip.c_str(), &target.address.sin_addr) != 1) {
        die("bad --url '" + std::string(url) + "' (want http://IPV4:PORT/PATH)");
    }
    target.address.sin_port = htons(*port);
    return target;
}

// The kernel gives each (source address, destination) pair about 28,000
// ephemeral ports (net.ipv4.ip_local_port_range). Every 127.x.y.z address is
// local on Linux, so binding connections round-robin to 127.0.0.1, .2, ...
// multiplies that limit without any configuration.
class SourceAddresses {
public:
    explicit SourceAddresses(std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) {
            sockaddr_in source{};
            source.sin_family = AF_INET;
            source.sin_addr.s_addr = htonl((127u << 24) + 1 + static_cast<std::uint32_t>(i));
            addresses_.push_back(source);
        }
    }
    const sockaddr_in* next() {
        if (addresses_.empty()) return nullptr;
        return &addresses_[next_++ % addresses_.size()];
    }

private:
    std::vector<sockaddr_in> addresses_;
    std::size_t next_ = 0;
};

// Starts a non-blocking connect. Returns the fd (connected or in progress), or
// -1 with `error` set. The caller learns the outcome from EPOLLOUT + SO_ERROR.
int start_connect(const Target& target, const sockaddr_in* source, int& error) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = errno;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // small requests must not wait
    if (source) {
        // Without this, bind() would pick the port at once, unique for the
        // address alone; with it, connect() picks it unique for the whole
        // 4-tuple, which is what lets one source address reach 28k ports.
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, reinterpret_cast<const sockaddr*>(source), sizeof *source) != 0) {
            error = errno;
            close(fd);
            return -1;
        }
    }
    if (connect(fd, reinterpret_cast<const sockaddr*>(&target.address), sizeof target.address) != 0 &&
        errno != EINPROGRESS) {
        error = errno;
        close(fd);
        return -1;
    }
    return fd;
}

int socket_error(int fd) {
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    return error;
}

// A thin epoll: level-triggered, each fd carries one 64-bit token (an index).
class Poller {
public:
    Poller() : fd_(epoll_create1(EPOLL_CLOEXEC)) {
        if (fd_ < 0) die(std::string("epoll_create1: ") + std::strerror(errno));
    }
    ~Poller() { close(fd_); }
    Poller(const Poller&) = delete;
    Poller& operator=(const Poller&) = delete;

    void add(int fd, std::uint32_t events, std::uint64_t token) { control(EPOLL_CTL_ADD, fd, events, token); }
    void modify(int fd, std::uint32_t events, std::uint64_t token) { control(EPOLL_CTL_MOD, fd, events, token); }

    // Waits at most `timeout_ms`; returns the ready events (empty on EINTR).
    std::span<const epoll_event> wait(int timeout_ms) {
        int n = epoll_wait(fd_, ready_.data(), static_cast<int>(ready_.size()), timeout_ms);
        if (n < 0 && errno != EINTR) die(std::string("epoll_wait: ") + std::strerror(errno));
        return {ready_.data(), static_cast<std::size_t>(std::max(n, 0))};
    }

private:
    void control(int op, int fd, std::uint32_t events, std::uint64_t token) {
        epoll_event event{};
        event.events = events;
        event.data.u64 = token;
        if (epoll_ctl(fd_, op, fd, &event) != 0) die(std::string("epoll_ctl: ") + std::strerror(errno));
    }

    int fd_;
    std::vector<epoll_event> ready_ = std::vector<epoll_event>(1024);
};

// One read buffer for every socket: the loop is single-threaded and each read
// is consumed before the next, so per-connection buffers would only cost memory.
char g_read_buffer[256 * 1024];

// ===========================================================================
// 5. HTTP: response heads and the chunked transfer coding
// ===========================================================================

std::string format_get(const Target& target, std::string_view path) {
    std::string request = "GET ";
    request.append(path).append(" HTTP/1.1\r\nHost: ").append(target.host);
    request.append("\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n");
    return request;
}

struct ResponseHead {
    int status = 0;
    std::int64_t content_length = -1;  // -1: none given
    bool chunked = false;
    bool close = false;  // Connection: close, or no framing at all
};

// Where the head ends (just past the blank line), if it has ended.
// Bare-LF line ends are accepted, as most clients do.
std::optional<std::size_t> find_head_end(std::string_view bytes) {
    std::size_t crlf = bytes.find("\r\n\r\n");
    std::size_t lf = bytes.find("\n\n");
    if (crlf == std::string_view::npos && lf == std::string_view::npos) return std::nullopt;
    return std::min(crlf == std::string_view::npos ? bytes.size() : crlf + 4,
                    lf == std::string_view::npos ? bytes.size() : lf + 2);
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
    return text;
}

// Parses "HTTP/1.x NNN ..." and the few header fields a client needs for
// framing. Returns false if the status line is not HTTP.
bool parse_head(std::string_view head, ResponseHead& out) {
    std::size_t eol = head.find('\n');
    std::string_view status_line = trim(head.substr(0, eol));
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) return false;
    std::optional<int> status = parse_number<int>(status_line.substr(9, 3));
    if (!status) return false;
    out = ResponseHead{};
    out.status = *status;
    bool http10 = status_line.starts_with("HTTP/1.0");
    while (eol != std::string_view::npos) {
        head.remove_prefix(eol + 1);
        eol = head.find('\n');
        std::string_view line = head.substr(0, eol);
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = line.substr(0, colon);
        std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "Content-Length")) out.content_length = parse_number<std::int64_t>(value).value_or(-1);
        else if (iequals(name, "Transfer-Encoding")) out.chunked = iequals(value, "chunked");
        else if (iequals(name, "Connection")) out.close = iequals(value, "close");
    }
    // Without a length or chunking, the body ends when the connection does.
    if (http10 || (!out.chunked && out.content_length < 0)) out.close = true;
    return true;
}

// Decodes Transfer-Encoding: chunked incrementally (node's http module chunks
// every stream). Chunk data is handed to `sink` as views into the input, so
// nothing is copied; chunk extensions and trailers are skipped.
class ChunkedDecoder {
public:
    enum class Status { More, Done, Error };

    template <class Sink>
    Status feed(std::string_view in, Sink&& sink) {
        while (!in.empty() && state_ != State::Done) {
            if (state_ == State::Data) {
                std::size_t n = std::min<std::uint64_t>(remaining_, in.size());
                sink(in.substr(0, n));
                in.remove_prefix(n);
                remaining_ -= n;
                if (remaining_ == 0) state_ = State::DataEnd;
                continue;
            }
            if (!step(in.front())) return Status::Error;
            in.remove_prefix(1);
        }
        return state_ == State::Done ? Status::Done : Status::More;
    }

private:
    enum class State { Size, Extension, Data, DataEnd, TrailerStart, TrailerLine, Done };

    // One byte of framing (everything but chunk data). False on bad input.
    bool step(char c) {
        switch (state_) {
            case State::Size: return size_byte(c);
            case State::Extension: if (c == '\n') return end_size_line(); return true;
            case State::DataEnd:
                if (c == '\n') state_ = State::Size, remaining_ = 0, digits_ = 0;
                return c == '\r' || c == '\n';
            case State::TrailerStart:
                if (c == '\n') state_ = State::Done;
                else if (c != '\r') state_ = State::TrailerLine;
                return true;
            case State::TrailerLine: if (c == '\n') state_ = State::TrailerStart; return true;
            default: return false;
        }
    }
    bool size_byte(char c) {
        int digit = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
        if (digit >= 0) {
            if (++digits_ > 12) return false;  // over 2^48 bytes: not a real chunk
            remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(digit);
            return true;
        }
        if (c == ';' || c == ' ' || c == '\t') state_ = State::Extension;
        else if (c == '\n') return end_size_line();
        else if (c != '\r') return false;
        return true;
    }
    bool end_size_line() {
        if (digits_ == 0) return false;
        state_ = remaining_ == 0 ? State::TrailerStart : State::Data;
        return true;
    }

    State state_ = State::Size;
    std::uint64_t remaining_ = 0;
    int digits_ = 0;
};

// ===========================================================================
// 6. The event-stream parser
// ===========================================================================

// One dispatched event, as views valid only during the callback.
struct Event {
    std::string_view type;  // the event: field, or "message"
    std::string_view data;  // data: lines joined with '\n'
    std::string_view id;    // the last id: seen (it persists across events)
};

// The text/event-stream format of the HTML standard, parsed incrementally:
// bytes may arrive split anywhere, lines end in CRLF, LF or a lone CR, a
// line starting with ':' is a comment, and a blank line dispatches the event
// built so far (only if it had a data field). The parser keeps just the
// unfinished line and the event under construction.
class EventStreamParser {
public:
    template <class OnEvent>
    void feed(std::string_view bytes, OnEvent&& on_event) {
        if (skip_lf_ && !bytes.empty()) {
            if (bytes.front() == '\n') bytes.remove_prefix(1);  // the LF of a CRLF split across reads
            skip_lf_ = false;
        }
        while (!bytes.empty()) {
            std::size_t end = bytes.find_first_of("\r\n");
            if (end == std::string_view::npos) {
                partial_.append(bytes);  // the line continues in the next read
                return;
            }
            if (partial_.empty()) {
                line(bytes.substr(0, end), on_event);  // common case: no copy
            } else {
                partial_.append(bytes.substr(0, end));
                line(partial_, on_event);
                partial_.clear();
            }
            bool cr = bytes[end] == '\r';
            bytes.remove_prefix(end + 1);
            if (cr) {
                if (bytes.empty()) skip_lf_ = true;
                else if (bytes.front() == '\n') bytes.remove_prefix(1);
            }
        }
    }

    std::uint64_t comments() const { return comments_; }
    std::int64_t retry_ms() const { return retry_ms_; }

private:
    template <class OnEvent>
    void line(std::string_view text, OnEvent& on_event) {
        if (text.empty()) return dispatch(on_event);
        if (text.front() == ':') {
            ++comments_;  // heartbeats and other comments
            return;
        }
        std::size_t colon = text.find(':');
        std::string_view field = text.substr(0, colon);
        std::string_view value = colon == std::string_view::npos ? std::string_view{} : text.substr(colon + 1);
        if (value.starts_with(' ')) value.remove_prefix(1);  // exactly one space is part of the syntax
        if (field == "data") {
            if (has_data_) data_ += '\n';
            data_.append(value);
            has_data_ = true;
        } else if (field == "event") {
            type_ = value;
        } else if (field == "id") {
            if (value.find('\0') == std::string_view::npos) id_ = value;
        } else if (field == "retry") {
            if (auto ms = parse_number<std::int64_t>(value)) retry_ms_ = *ms;
        }  // any other field is ignored, as the standard says
    }

    template <class OnEvent>
    void dispatch(OnEvent& on_event) {
        if (has_data_) on_event(Event{type_.empty() ? std::string_view("message") : type_, data_, id_});
        data_.clear();
        type_.clear();
        has_data_ = false;
    }

    std::string partial_;  // an unfinished line
    std::string data_;
    std::string type_;
    std::string id_;
    bool has_data_ = false;
    bool skip_lf_ = false;  // the last read ended in CR: drop a leading LF
    std::uint64_t comments_ = 0;
    std::int64_t retry_ms_ = -1;
};

// ===========================================================================
// 7. Payload: what pub writes and sub reads back
// ===========================================================================

// `due_ns` is when the schedule (--rate) wanted the event sent, `sent_ns`
// when it was. They differ when the server answered the topic's previous
// event late: latency from `due` then counts that wait too, which latency
// from `t` alone would hide (the "coordinated omission" of a closed-loop
// load generator).
std::string make_payload(std::string_view topic, std::uint64_t seq, std::int64_t due_ns, std::int64_t sent_ns,
                         std::size_t pad) {
    std::string body = "{\"topic\":\"";
    body.append(topic).append("\",\"seq\":").append(std::to_string(seq));
    body.append(",\"due\":").append(std::to_string(due_ns));
    body.append(",\"t\":").append(std::to_string(sent_ns)).append(",\"pad\":\"");
    body.append(pad, 'x').append("\"}");
    return body;
}

struct Payload {
    std::string_view topic;  // empty if absent
    std::uint64_t seq = 0;   // 0 if absent
    std::int64_t sent_ns = 0;
    std::int64_t due_ns = 0;  // 0 if absent
};

// Reads the fields back by looking for their keys; a full JSON parser would
// be more code than this whole section and the format is our own.
Payload read_payload(std::string_view data) {
    Payload p;
    auto number_after = [&](std::string_view key) -> std::uint64_t {
        std::size_t at = data.find(key);
        if (at == std::string_view::npos) return 0;
        std::string_view rest = data.substr(at + key.size());
        std::size_t digits = rest.find_first_not_of("0123456789");
        return parse_number<std::uint64_t>(rest.substr(0, digits)).value_or(0);
    };
    p.seq = number_after("\"seq\":");
    p.sent_ns = static_cast<std::int64_t>(number_after("\"t\":"));
    p.due_ns = static_cast<std::int64_t>(number_after("\"due\":"));
    std::size_t at = data.find("\"topic\":\"");
    if (at != std::string_view::npos) {
        std::string_view rest = data.substr(at + 9);
        p.topic = rest.substr(0, rest.find('"'));
    }
    return p;
}

// ===========================================================================
// 8. Sequence tracking: missing, duplicated, out of order
// ===========================================================================

struct SequenceCounts {
    std::uint64_t missing = 0;
    std::uint64_t duplicated = 0;
    std::uint64_t out_of_order = 0;
};

// What one stream has seen of one topic. A topic's events must arrive as
// seq 1, 2, 3, ... A jump leaves holes; a hole filled later is out of order,
// a seq seen before is a duplicate. Holes are remembered one by one up to
// kMaxHoles per track; beyond that they are only counted (so a late arrival
// of one of those would then be taken for a duplicate).
struct SequenceTrack {
    static constexpr std::size_t kMaxHoles = 4096;

    explicit SequenceTrack(std::uint32_t topic_id) : topic(topic_id) {}

    std::uint32_t topic;
    std::uint64_t highest = 0;
    std::vector<std::uint64_t> holes;
    std::uint64_t uncounted_holes = 0;

    void observe(std::uint64_t seq, SequenceCounts& counts) {
        if (seq == highest + 1) {
            highest = seq;
        } else if (seq > highest) {
            for (std::uint64_t s = highest + 1; s < seq; ++s) {
                if (holes.size() < kMaxHoles) holes.push_back(s);
                else ++uncounted_holes;
            }
            highest = seq;
        } else if (auto hole = std::find(holes.begin(), holes.end(), seq); hole != holes.end()) {
            holes.erase(hole);
            ++counts.out_of_order;
        } else {
            ++counts.duplicated;
        }
    }

    // Missing at the end: the holes, plus the tail that some other stream of
    // the same topic got (`topic_highest`) and this one did not.
    std::uint64_t missing(std::uint64_t topic_highest) const {
        return holes.size() + uncounted_holes + (topic_highest > highest ? topic_highest - highest : 0);
    }
};

// Topic names to small integers, shared by all streams of a run.
class TopicTable {
public:
    std::uint32_t id(std::string_view name) {
        auto found = ids_.find(name);
        if (found != ids_.end()) return found->second;
        auto id = static_cast<std::uint32_t>(highest_.size());
        ids_.emplace(name, id);
        highest_.push_back(0);
        return id;
    }
    void saw(std::uint32_t topic, std::uint64_t seq) { highest_[topic] = std::max(highest_[topic], seq); }
    std::uint64_t highest(std::uint32_t topic) const { return highest_[topic]; }

private:
    // Transparent hashing: find() takes a string_view, so the per-event
    // lookup allocates nothing.
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
    };
    std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> ids_;
    std::vector<std::uint64_t> highest_;  // the highest seq any stream saw, per topic
};

// ===========================================================================
// 9. Output: JSON summary and progress lines
// ===========================================================================

// Builds one flat-ish JSON object; enough for numbers, strings and nesting.
class Json {
public:
    Json& field(std::string_view key, double value) {
        char text[64];
        if (value == static_cast<double>(static_cast<std::int64_t>(value)) && std::abs(value) < 1e15) {
            std::snprintf(text, sizeof text, "%lld", static_cast<long long>(value));
        } else {
            std::snprintf(text, sizeof text, "%.3f", value);
        }
        return raw(key, text);
    }
    Json& field(std::string_view key, std::string_view value) {
        std::string quoted = "\"";
        for (char c : value) {
            if (c == '"' || c == '\\') quoted += '\\';
            if (static_cast<unsigned char>(c) >= 0x20) quoted += c;
        }
        return raw(key, quoted + "\"");
    }
    Json& object(std::string_view key, const Json& inner) { return raw(key, inner.text()); }
    std::string text() const { return "{" + body_ + "}"; }

private:
    Json& raw(std::string_view key, std::string_view value) {
        if (!body_.empty()) body_ += ',';
        body_.append("\"").append(key).append("\":").append(value);
        return *this;
    }
    std::string body_;
};

// p50/p99/max of nanosecond samples, in `unit_ns` units (1000: us, 1e6: ms).
Json percentiles(const Histogram& h, double unit_ns, bool with_p90) {
    auto in_unit = [&](std::uint64_t ns) { return std::round(static_cast<double>(ns) / unit_ns * 1000) / 1000; };
    Json json;
    json.field("p50", in_unit(h.percentile(50)));
    if (with_p90) json.field("p90", in_unit(h.percentile(90)));
    json.field("p99", in_unit(h.percentile(99)));
    json.field("max", in_unit(h.max()));
    return json;
}

Json error_kinds(const std::map<std::string, std::uint64_t>& kinds) {
    Json json;
    for (const auto& [kind, count] : kinds) json.field(kind, static_cast<double>(count));
    return json;
}

// Prints a progress line about once a second (never for runs under a second).
class Progress {
public:
    Progress(bool quiet, std::int64_t start) : quiet_(quiet), start_(start), next_(start + kNsPerSecond) {}

    template <class Line>
    void tick(std::int64_t now, Line&& line) {
        if (now < next_) return;
        next_ = now + kNsPerSecond;  // advanced even when quiet: the loop's sleep depends on it
        if (quiet_) return;
        std::string text = line();
        std::fprintf(stderr, "sse-load %5.1fs %s\n", static_cast<double>(now - start_) / 1e9, text.c_str());
    }
    int ms_until_next(std::int64_t now) const {
        return static_cast<int>(std::clamp<std::int64_t>((next_ - now) / 1'000'000 + 1, 0, 1000));
    }

private:
    bool quiet_;
    std::int64_t start_;
    std::int64_t next_;
};

// ===========================================================================
// 10. sub mode
// ===========================================================================

enum class Phase : std::uint8_t { Waiting, Connecting, ReadingHead, Streaming, Done, Failed, Closed };

// One subscriber stream. Small on purpose: 20,000 of them must fit easily.
struct Stream {
    int fd = -1;
    Phase phase = Phase::Waiting;
    bool chunked = false;
    std::int64_t started_ns = 0;    // connect() began
    std::string head;               // response head, until complete
    ChunkedDecoder chunks;
    EventStreamParser parser;
    std::vector<SequenceTrack> tracks;  // one per topic of the stream
    std::uint64_t events = 0;
};

class Subscriber {
public:
    Subscriber(const Options& options, Target target)
        : o_(options), target_(std::move(target)), sources_(options.sources), streams_(options.streams) {}

    void run() {
        start_ = now_ns();
        std::int64_t deadline = start_ + static_cast<std::int64_t>(o_.duration_s * 1e9);
        Progress progress(o_.quiet, start_);
        while (!g_stop && !finished()) {
            std::int64_t now = now_ns();
            if (now >= deadline) break;
            open_more(now);
            progress.tick(now, [&] { return progress_line(); });
            // While streams are still to open, wake every 10 ms to open more.
            std::int64_t deadline_ms = (deadline - now) / 1'000'000 + 1;
            int timeout = static_cast<int>(std::min<std::int64_t>(
                {progress.ms_until_next(now), next_open_ < streams_.size() ? 10 : 1000, deadline_ms}));
            for (const epoll_event& ready : poller_.wait(timeout)) handle(streams_[ready.data.u64], ready.events);
        }
        print_summary();
    }

private:
    // --- connecting, bounded by --connect-concurrency and --connect-rate ---

    void open_more(std::int64_t now) {
        while (next_open_ < streams_.size() && in_flight_ < o_.connect_concurrency) {
            if (o_.connect_rate > 0 &&
                static_cast<double>(next_open_) >= o_.connect_rate * static_cast<double>(now - start_) / 1e9) {
                return;  // ahead of the allowed rate: wait for the clock
            }
            open_stream(next_open_++, now);
        }
    }

    void open_stream(std::size_t index, std::int64_t now) {
        Stream& s = streams_[index];
        std::vector<std::string> topics = topics_of(index);
        for (const std::string& topic : topics) s.tracks.push_back(SequenceTrack(topic_table_.id(topic)));
        int error = 0;
        s.fd = start_connect(target_, sources_.next(), error);
        s.started_ns = now;
        if (s.fd < 0) return fail(s, errno_name(error));
        s.phase = Phase::Connecting;
        ++in_flight_;
        poller_.add(s.fd, EPOLLOUT, index);
    }

    // Stream i takes M consecutive entries of the pool, wrapping around, so
    // every topic gets the same number of streams when the sizes divide.
    std::vector<std::string> topics_of(std::size_t index) const {
        std::vector<std::string> topics;
        for (std::size_t j = 0; j < o_.per_stream; ++j) {
            const std::string& topic = o_.topics[(index * o_.per_stream + j) % o_.topics.size()];
            if (std::find(topics.begin(), topics.end(), topic) == topics.end()) topics.push_back(topic);
        }
        return topics;
    }

    // Recomputed when the request is written rather than kept per stream.
    std::string path_of(std::size_t index) const {
        std::string joined = join(topics_of(index), ',');
        return substitute(substitute(target_.path_pattern, "{topics}", joined), "{topic}", joined);
    }

    // --- events from epoll ---

    void handle(Stream& s, std::uint32_t events) {
        if (s.phase == Phase::Connecting) return on_connected(s, events);
        on_readable(s);
    }

    void on_connected(Stream& s, std::uint32_t events) {
        int error = socket_error(s.fd);
        if (error != 0 || (events & EPOLLERR)) return fail(s, errno_name(error ? error : ECONNREFUSED));
        std::string request = format_get(target_, path_of(index_of(s)));
        // A fresh socket's send buffer holds far more than one request line,
        // so a short write here means something is badly wrong.
        if (write(s.fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
            return fail(s, "short request write");
        }
        s.phase = Phase::ReadingHead;
        poller_.modify(s.fd, EPOLLIN, index_of(s));
    }

    std::size_t index_of(const Stream& s) const { return static_cast<std::size_t>(&s - streams_.data()); }

    void on_readable(Stream& s) {
        ssize_t n = read(s.fd, g_read_buffer, sizeof g_read_buffer);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n <= 0) return lost(s, n == 0 ? "eof" : errno_name(errno));
        std::int64_t now = now_ns();
        std::string_view bytes(g_read_buffer, static_cast<std::size_t>(n));
        if (s.phase == Phase::ReadingHead) {
            std::optional<std::string_view> body = read_head(s, bytes, now);
            if (!body) return;
            bytes = *body;
        }
        if (s.phase == Phase::Streaming || s.phase == Phase::Done) body_bytes(s, bytes, now);
    }

    // Collects the response head; returns the body bytes that followed it
    // in this read, or nothing while the head is incomplete or bad.
    std::optional<std::string_view> read_head(Stream& s, std::string_view bytes, std::int64_t now) {
        s.head.append(bytes);
        std::optional<std::size_t> end = find_head_end(s.head);
        if (!end) {
            if (s.head.size() > 16 * 1024) fail(s, "response head too large");
            return std::nullopt;
        }
        ResponseHead head;
        bool is_http = parse_head(std::string_view(s.head).substr(0, *end), head);
        if (!is_http || head.status != 200) {
            fail(s, is_http ? "http " + std::to_string(head.status) : "not HTTP");
            return std::nullopt;
        }
        s.chunked = head.chunked;
        s.phase = Phase::Streaming;
        --in_flight_;
        ++opened_;
        ++open_now_;
        peak_open_ = std::max(peak_open_, open_now_);
        connect_ns_.add(static_cast<std::uint64_t>(now - s.started_ns));
        settled();
        // The body bytes are the tail of this read (the head may have begun
        // in an earlier one), so view them in the read buffer, not in `head`.
        std::size_t body_length = s.head.size() - *end;
        std::string().swap(s.head);  // free it: 20,000 idle heads add up
        return bytes.substr(bytes.size() - body_length);
    }

    void body_bytes(Stream& s, std::string_view bytes, std::int64_t now) {
        auto on_event = [&](const Event& e) { event(s, e, now); };
        if (!s.chunked) return s.parser.feed(bytes, on_event);
        auto status = s.chunks.feed(bytes, [&](std::string_view piece) { s.parser.feed(piece, on_event); });
        if (status == ChunkedDecoder::Status::Error) lost(s, "bad chunked framing");
        else if (status == ChunkedDecoder::Status::Done) lost(s, "eof");
    }

    void event(Stream& s, const Event& e, std::int64_t now) {
        ++s.events;
        ++events_;
        if (first_event_ns_ == 0) first_event_ns_ = now;
        last_event_ns_ = now;
        Payload p = read_payload(e.data);
        if (p.sent_ns > 0 && now >= p.sent_ns) latency_ns_.add(static_cast<std::uint64_t>(now - p.sent_ns));
        if (p.due_ns > 0 && now >= p.due_ns) schedule_latency_ns_.add(static_cast<std::uint64_t>(now - p.due_ns));
        if (p.seq > 0) track(s, p.topic.empty() ? e.type : p.topic, p.seq);
        if (o_.expect > 0 && s.events >= o_.expect && s.phase == Phase::Streaming) {
            s.phase = Phase::Done;
            ++done_;
        }
    }

    void track(Stream& s, std::string_view topic_name, std::uint64_t seq) {
        std::uint32_t topic = s.tracks.size() == 1 && topic_name == "message" ? s.tracks[0].topic
                                                                               : topic_table_.id(topic_name);
        topic_table_.saw(topic, seq);
        auto found = std::find_if(s.tracks.begin(), s.tracks.end(), [&](auto& t) { return t.topic == topic; });
        if (found == s.tracks.end()) found = s.tracks.insert(s.tracks.end(), SequenceTrack(topic));
        found->observe(seq, counts_);
    }

    // --- endings ---

    // The stream never got going (connect error, non-200 answer).
    void fail(Stream& s, const std::string& reason) {
        if (s.phase == Phase::Connecting || s.phase == Phase::ReadingHead) --in_flight_;
        close_fd(s);
        s.phase = Phase::Failed;
        ++failed_;
        ++errors_[reason];
        settled();
    }

    // A stream that was streaming ended (server closed it, reset, bad bytes).
    void lost(Stream& s, const std::string& reason) {
        if (s.phase != Phase::Streaming && s.phase != Phase::Done) return fail(s, reason);
        if (s.phase == Phase::Done) --done_;
        close_fd(s);
        s.phase = Phase::Closed;
        --open_now_;
        ++closed_early_;
        ++errors_[reason];
    }

    void close_fd(Stream& s) {
        if (s.fd >= 0) close(s.fd);  // closing also removes it from epoll
        s.fd = -1;
    }

    // Once every stream is streaming or has failed, tell the scripts.
    void settled() {
        if (opened_ + failed_ != streams_.size() || o_.ready_file.empty()) return;
        std::ofstream(o_.ready_file) << "open " << opened_ << " failed " << failed_ << "\n";
    }

    bool finished() const {
        std::size_t dead = failed_ + closed_early_;
        if (dead == streams_.size()) return true;  // nothing more can arrive
        return o_.expect > 0 && done_ + dead == streams_.size();
    }

    // --- output ---

    std::string progress_line() const {
        char line[200];
        std::snprintf(line, sizeof line, "sub: open %zu/%zu failed %zu closed %zu events %llu (+%llu) p99 %.1f ms",
                      open_now_, streams_.size(), failed_, closed_early_, static_cast<unsigned long long>(events_),
                      static_cast<unsigned long long>(events_ - events_at_last_line_),
                      static_cast<double>(latency_ns_.percentile(99)) / 1e6);
        events_at_last_line_ = events_;
        return line;
    }

    void print_summary() {
        SequenceCounts counts = counts_;
        std::size_t incomplete = 0;
        for (const Stream& s : streams_) {
            if (s.phase == Phase::Failed || s.phase == Phase::Waiting) continue;
            for (const SequenceTrack& t : s.tracks) counts.missing += t.missing(topic_table_.highest(t.topic));
            if (o_.expect > 0 && s.events < o_.expect) ++incomplete;
        }
        double window = static_cast<double>(last_event_ns_ - first_event_ns_) / 1e9;
        std::uint64_t error_count = 0;
        for (const auto& [kind, count] : errors_) error_count += count;
        Json json;
        json.field("mode", "sub");
        if (!o_.label.empty()) json.field("label", o_.label);
        json.field("streams", static_cast<double>(streams_.size()))
            .field("streams_open", static_cast<double>(peak_open_))
            .field("streams_failed", static_cast<double>(failed_ + (streams_.size() - next_open_)))
            .field("closed_early", static_cast<double>(closed_early_))
            .object("connect_ms", percentiles(connect_ns_, 1e6, false))
            .field("events", static_cast<double>(events_))
            .field("deliveries_per_s", window > 0 ? std::round(static_cast<double>(events_) / window) : 0)
            .object("latency_us", percentiles(latency_ns_, 1e3, true))
            .object("latency_from_schedule_us", percentiles(schedule_latency_ns_, 1e3, true))
            .field("errors", static_cast<double>(error_count))
            .object("error_kinds", error_kinds(errors_))
            .field("missing", static_cast<double>(counts.missing))
            .field("duplicated", static_cast<double>(counts.duplicated))
            .field("out_of_order", static_cast<double>(counts.out_of_order));
        if (o_.expect > 0) json.field("incomplete_streams", static_cast<double>(incomplete));
        json.field("client_cpu_s", own_cpu_seconds());
        std::printf("%s\n", json.text().c_str());
    }

    const Options& o_;
    Target target_;
    SourceAddresses sources_;
    Poller poller_;
    std::vector<Stream> streams_;
    TopicTable topic_table_;
    std::int64_t start_ = 0;
    std::size_t next_open_ = 0;   // streams_[next_open_..] not yet started
    std::size_t in_flight_ = 0;   // connecting or awaiting the head
    std::size_t opened_ = 0, open_now_ = 0, peak_open_ = 0;
    std::size_t failed_ = 0, closed_early_ = 0, done_ = 0;
    std::uint64_t events_ = 0;
    mutable std::uint64_t events_at_last_line_ = 0;
    std::int64_t first_event_ns_ = 0, last_event_ns_ = 0;
    Histogram connect_ns_, latency_ns_, schedule_latency_ns_;
    SequenceCounts counts_;
    std::map<std::string, std::uint64_t> errors_;
};

// ===========================================================================
// 11. churn mode
// ===========================================================================

// --concurrency slots, each looping: connect, send the GET, wait for the head
// and the first body byte (a stream has begun), close. wrk cannot do this: it
// counts a response only when its body ends, and a stream's body never ends.
class Churner {
public:
    Churner(const Options& options, Target target)
        : o_(options), target_(std::move(target)), sources_(options.sources), slots_(options.concurrency) {
        request_ = format_get(target_, substitute(substitute(target_.path_pattern, "{topics}", o_.topics[0]),
                                                  "{topic}", o_.topics[0]));
    }

    void run() {
        start_ = now_ns();
        std::int64_t deadline = start_ + static_cast<std::int64_t>(o_.duration_s * 1e9);
        Progress progress(o_.quiet, start_);
        while (!g_stop && now_ns() < deadline && (o_.cycles == 0 || cycles_ + failed_ < o_.cycles)) {
            refill();
            progress.tick(now_ns(), [&] {
                return "churn: cycles " + std::to_string(cycles_) + " failed " + std::to_string(failed_);
            });
            for (const epoll_event& ready : poller_.wait(progress.ms_until_next(now_ns()))) {
                step(ready.data.u64, ready.events);
            }
        }
        print_summary(now_ns());
    }

private:
    struct Slot {
        int fd = -1;
        bool connected = false;
        std::int64_t started_ns = 0;
        std::string head;
    };

    // Starts a cycle in every free slot, as long as --cycles allows more.
    // Done from the loop, not from end(), so that a connect() failing again
    // and again cannot recurse.
    void refill() {
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            if (slots_[i].fd >= 0) continue;
            if (o_.cycles > 0 && cycles_ + failed_ + in_progress() >= o_.cycles) return;
            begin(i);
        }
    }

    void begin(std::size_t i) {
        Slot& slot = slots_[i];
        int error = 0;
        slot = Slot{};
        slot.started_ns = now_ns();
        slot.fd = start_connect(target_, sources_.next(), error);
        if (slot.fd < 0) return end(i, errno_name(error));
        ++busy_;
        poller_.add(slot.fd, EPOLLOUT, i);
    }

    void step(std::size_t i, std::uint32_t events) {
        Slot& slot = slots_[i];
        if (!slot.connected) {
            int error = socket_error(slot.fd);
            if (error != 0 || (events & EPOLLERR)) return end(i, errno_name(error ? error : ECONNREFUSED));
            if (write(slot.fd, request_.data(), request_.size()) != static_cast<ssize_t>(request_.size())) {
                return end(i, "short request write");
            }
            slot.connected = true;
            poller_.modify(slot.fd, EPOLLIN, i);
            return;
        }
        ssize_t n = read(slot.fd, g_read_buffer, sizeof g_read_buffer);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n <= 0) return end(i, n == 0 ? "eof" : errno_name(errno));
        slot.head.append(g_read_buffer, static_cast<std::size_t>(n));
        std::optional<std::size_t> head_end = find_head_end(slot.head);
        if (!head_end || *head_end == slot.head.size()) return;  // wait for the first body byte
        ResponseHead head;
        if (!parse_head(slot.head, head) || head.status != 200) return end(i, "http " + std::to_string(head.status));
        setup_ns_.add(static_cast<std::uint64_t>(now_ns() - slot.started_ns));
        end(i, {});
    }

    // Closes the slot's connection and counts the cycle; refill() reuses it.
    void end(std::size_t i, const std::string& error) {
        Slot& slot = slots_[i];
        if (slot.fd >= 0) {
            close(slot.fd);
            --busy_;
        }
        slot.fd = -1;
        if (error.empty()) {
            ++cycles_;
        } else {
            ++failed_;
            ++errors_[error];
        }
    }

    std::size_t in_progress() const { return busy_; }

    void print_summary(std::int64_t now) const {
        double seconds = static_cast<double>(now - start_) / 1e9;
        Json json;
        json.field("mode", "churn");
        if (!o_.label.empty()) json.field("label", o_.label);
        json.field("concurrency", static_cast<double>(slots_.size()))
            .field("cycles", static_cast<double>(cycles_))
            .field("failed", static_cast<double>(failed_))
            .field("duration_s", seconds)
            .field("cycles_per_s", seconds > 0 ? std::round(static_cast<double>(cycles_) / seconds) : 0)
            .object("setup_ms", percentiles(setup_ns_, 1e6, false))
            .object("error_kinds", error_kinds(errors_))
            .field("client_cpu_s", own_cpu_seconds());
        std::printf("%s\n", json.text().c_str());
    }

    const Options& o_;
    Target target_;
    SourceAddresses sources_;
    Poller poller_;
    std::vector<Slot> slots_;
    std::string request_;
    std::int64_t start_ = 0;
    std::uint64_t cycles_ = 0, failed_ = 0;
    std::size_t busy_ = 0;  // slots with a connection
    Histogram setup_ns_;
    std::map<std::string, std::uint64_t> errors_;
};

// ===========================================================================
// 12. pub mode
// ===========================================================================

// Event i goes to topic i mod T with seq i / T + 1, on connection
// (i mod T) mod M. Pinning a topic to one connection, which waits for each
// answer before the next request, is what guarantees the server receives a
// topic's events in seq order: two connections could overtake each other.
class Publisher {
public:
    Publisher(const Options& options, Target target)
        : o_(options), target_(std::move(target)), sources_(options.sources),
          conns_(std::min(options.connections, options.topics.size())) {
        for (std::size_t c = 0; c < conns_.size(); ++c) conns_[c].next = first_event_of(c);
    }

    void run() {
        start_ = now_ns();
        std::int64_t deadline = start_ + static_cast<std::int64_t>(o_.duration_s * 1e9);
        Progress progress(o_.quiet, start_);
        while (!g_stop && !all_done()) {
            std::int64_t now = now_ns();
            if (now >= deadline) break;
            int timeout = progress.ms_until_next(now);
            for (std::size_t c = 0; c < conns_.size(); ++c) timeout = std::min(timeout, maybe_send(c, now));
            progress.tick(now, [&] {
                return "pub: published " + std::to_string(published_) + " failed " + std::to_string(failed_);
            });
            for (const epoll_event& ready : poller_.wait(timeout)) on_ready(ready.data.u64, ready.events);
        }
        print_summary();
    }

private:
    enum class State { Idle, Connecting, Sending, Awaiting };

    struct Conn {
        int fd = -1;
        State state = State::Idle;
        std::uint64_t next = 0;      // this connection's next event index
        std::uint64_t current = 0;   // the event in flight
        std::string out;             // request bytes not yet written
        std::size_t written = 0;
        std::string in;              // response bytes so far
        std::optional<ResponseHead> head;
        std::size_t body_start = 0;
        ChunkedDecoder chunks;
        std::int64_t sent_ns = 0;
    };

    std::size_t topic_count() const { return o_.topics.size(); }
    std::size_t conn_of(std::uint64_t event) const { return (event % topic_count()) % conns_.size(); }

    std::uint64_t first_event_of(std::size_t c) const { return advance(c, 0); }
    // The first event index >= from that belongs to connection c (or o_.events).
    std::uint64_t advance(std::size_t c, std::uint64_t from) const {
        for (std::uint64_t i = from; i < o_.events && i < from + topic_count(); ++i) {
            if (conn_of(i) == c) return i;
        }
        return o_.events;
    }

    std::int64_t due_ns(std::uint64_t event) const {
        if (o_.rate <= 0) return start_;
        return start_ + static_cast<std::int64_t>(static_cast<double>(event) * 1e9 / o_.rate);
    }

    // Sends connection c's next event if it is idle and the event is due;
    // returns how many ms the loop may sleep as far as c is concerned.
    int maybe_send(std::size_t c, std::int64_t now) {
        Conn& conn = conns_[c];
        if (conn.state != State::Idle || conn.next >= o_.events) return 1000;
        std::int64_t due = due_ns(conn.next);
        if (due > now) return static_cast<int>((due - now + 999'999) / 1'000'000);
        conn.current = conn.next;
        if (conn.fd < 0 && !connect_conn(c)) return 0;
        if (conn.state == State::Idle) write_request(c);
        return 0;
    }

    bool connect_conn(std::size_t c) {
        Conn& conn = conns_[c];
        int error = 0;
        conn.fd = start_connect(target_, sources_.next(), error);
        if (conn.fd < 0) {
            finish(c, false, errno_name(error));
            return false;
        }
        conn.state = State::Connecting;
        poller_.add(conn.fd, EPOLLOUT, c);
        return true;
    }

    void write_request(std::size_t c) {
        Conn& conn = conns_[c];
        const std::string& topic = o_.topics[conn.current % topic_count()];
        std::uint64_t seq = conn.current / topic_count() + 1;
        conn.sent_ns = now_ns();  // taken last, so latency starts at the write
        // Without --rate there is no schedule: an event is due when sent.
        std::int64_t due = o_.rate > 0 ? due_ns(conn.current) : conn.sent_ns;
        std::string body = make_payload(topic, seq, due, conn.sent_ns, o_.size);
        std::string path = substitute(substitute(target_.path_pattern, "{topics}", topic), "{topic}", topic);
        conn.out = "POST " + path + " HTTP/1.1\r\nHost: " + target_.host +
                   "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                   "\r\n\r\n" + body;
        conn.written = 0;
        conn.in.clear();
        conn.head.reset();
        conn.chunks = ChunkedDecoder{};
        conn.state = State::Sending;
        flush(c);
    }

    void flush(std::size_t c) {
        Conn& conn = conns_[c];
        while (conn.written < conn.out.size()) {
            ssize_t n = write(conn.fd, conn.out.data() + conn.written, conn.out.size() - conn.written);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) return poller_.modify(conn.fd, EPOLLOUT, c);  // the rest on EPOLLOUT
            if (n < 0) return finish(c, false, errno_name(errno));
            conn.written += static_cast<std::size_t>(n);
        }
        conn.state = State::Awaiting;
        poller_.modify(conn.fd, EPOLLIN, c);
    }

    void on_ready(std::size_t c, std::uint32_t events) {
        Conn& conn = conns_[c];
        if (conn.state == State::Connecting) {
            int error = socket_error(conn.fd);
            if (error != 0 || (events & EPOLLERR)) return finish(c, false, errno_name(error ? error : ECONNREFUSED));
            conn.state = State::Idle;
            return write_request(c);
        }
        if (conn.state == State::Sending) return flush(c);
        if (conn.state == State::Awaiting) return read_response(c);
        // Readable while idle: the server closed a keep-alive connection
        // (idle timeout). Drop it; the next event reconnects.
        close(conn.fd);
        conn.fd = -1;
    }

    void read_response(std::size_t c) {
        Conn& conn = conns_[c];
        ssize_t n = read(conn.fd, g_read_buffer, sizeof g_read_buffer);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        bool eof = n == 0;
        if (n < 0) return finish(c, false, errno_name(errno));
        conn.in.append(g_read_buffer, static_cast<std::size_t>(n));
        if (!conn.head) {
            std::optional<std::size_t> end = find_head_end(conn.in);
            if (!end) return eof ? finish(c, false, "eof") : void();
            ResponseHead head;
            if (!parse_head(std::string_view(conn.in).substr(0, *end), head)) return finish(c, false, "not HTTP");
            conn.head = head;
            conn.body_start = *end;
        }
        if (body_complete(conn, eof)) {
            bool ok = conn.head->status / 100 == 2;
            finish(c, ok, ok ? std::string() : "http " + std::to_string(conn.head->status));
        } else if (eof) {
            finish(c, false, "eof");
        }
    }

    bool body_complete(Conn& conn, bool eof) {
        std::string_view body = std::string_view(conn.in).substr(conn.body_start);
        if (conn.head->chunked) {
            conn.body_start = conn.in.size();  // the decoder keeps its own place
            return conn.chunks.feed(body, [](std::string_view) {}) == ChunkedDecoder::Status::Done;
        }
        if (conn.head->content_length >= 0) return body.size() >= static_cast<std::size_t>(conn.head->content_length);
        return eof;  // close-delimited
    }

    // The event in flight on c is answered (ok) or lost; c moves on.
    void finish(std::size_t c, bool ok, const std::string& error) {
        Conn& conn = conns_[c];
        if (ok) {
            ++published_;
            answer_ns_.add(static_cast<std::uint64_t>(now_ns() - conn.sent_ns));
            if (first_send_ns_ == 0) first_send_ns_ = conn.sent_ns;
            last_answer_ns_ = now_ns();
        } else {
            ++failed_;
            ++errors_[error];
        }
        bool reuse = ok && !conn.head->close;
        if (!reuse && conn.fd >= 0) {
            close(conn.fd);  // reconnect for the next event
            conn.fd = -1;
        }
        conn.state = State::Idle;
        conn.next = advance(c, conn.current + 1);
    }

    bool all_done() const {
        return std::all_of(conns_.begin(), conns_.end(),
                           [&](const Conn& c) { return c.state == State::Idle && c.next >= o_.events; });
    }

    void print_summary() const {
        double seconds = static_cast<double>(last_answer_ns_ - first_send_ns_) / 1e9;
        Json json;
        json.field("mode", "pub");
        if (!o_.label.empty()) json.field("label", o_.label);
        json.field("published", static_cast<double>(published_))
            .field("failed", static_cast<double>(failed_))
            .field("duration_s", std::max(seconds, 0.0))
            .field("publishes_per_s", seconds > 0 ? std::round(static_cast<double>(published_) / seconds) : 0)
            .object("answer_ms", percentiles(answer_ns_, 1e6, false))
            .object("error_kinds", error_kinds(errors_))
            .field("client_cpu_s", own_cpu_seconds());
        std::printf("%s\n", json.text().c_str());
    }

    const Options& o_;
    Target target_;
    SourceAddresses sources_;
    Poller poller_;
    std::vector<Conn> conns_;
    std::int64_t start_ = 0, first_send_ns_ = 0, last_answer_ns_ = 0;
    std::uint64_t published_ = 0, failed_ = 0;
    Histogram answer_ns_;
    std::map<std::string, std::uint64_t> errors_;
};

}  // namespace

// ===========================================================================
// 13. main
// ===========================================================================

int main(int argc, char** argv) {
    Options options = parse_options(argc, argv);
    Target target = parse_url(options.url);
    install_signal_handlers();
    std::uint64_t fd_limit = raise_fd_limit();
    if (options.mode == Mode::Sub && options.streams + 16 > fd_limit) {
        std::fprintf(stderr, "sse-load: warning: %zu streams but only %llu descriptors; run several processes\n",
                     options.streams, static_cast<unsigned long long>(fd_limit));
    }
    switch (options.mode) {
        case Mode::Sub: Subscriber(options, target).run(); break;
        case Mode::Churn: Churner(options, target).run(); break;
        case Mode::Pub: Publisher(options, target).run(); break;
    }
    std::fflush(stdout);
    return 0;
}
