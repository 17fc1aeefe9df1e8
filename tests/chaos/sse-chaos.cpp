// sse-chaos: "nothing lost, measured", the chaos test of sse-server.
//
// One publisher posts numbered events, {"topic":"chaos-3","n":123} with n
// counting from 1 per topic, while many subscribers (single- and multi-topic)
// are cut off at random moments: by themselves (a clean close, an abortive
// close that sends RST, or a close halfway through an event) and by the
// server (--max-stream-age, and --max-buffer drops of readers that pause with
// a tiny receive buffer). Each subscriber resumes with Last-Event-ID exactly
// as EventSource does: the id of the last event it *dispatched*, across all
// its topics. At the end every subscriber must hold every event of its topics
// exactly once and in order, and no reset may have been needed.
//
// The publisher is cut off too, by itself, with requests unanswered: it
// comes back and sends every unanswered request again. Each publish carries
// an Idempotency-Key, so the server publishes it once however often it is
// sent; some are also sent twice in a row, and both answers must carry the
// same id. The server's own count of published events must match.
//
// Subscribers open their first stream as a page would: the same URL as every
// reconnection, with ?last=N and no Last-Event-ID. A prelude published before
// they connect (2N events per topic) makes that checkable: a first stream
// must get exactly the newest N of each of its topics, and a reconnection's
// Last-Event-ID must win over the ?last=N still in its URL.
//
// Output: one JSON summary line on stdout; connection problems briefly on
// stderr. Exit status 0 only when the verdict is "ok".
//
// One thread, one level-triggered epoll loop, non-blocking sockets, nothing
// beyond the C++ standard library and POSIX.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <compare>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Millis = std::int64_t;

constexpr std::size_t kReadBytes = 16 * 1024;    // one read per readiness event
constexpr int kSlowReceiveBuffer = 1024;         // SO_RCVBUF of a slow reader
constexpr int kSlowSegmentBytes = 536;           // TCP_MAXSEG of a slow reader
constexpr int kMaxLoggedProblems = 30;           // stderr lines before going quiet
constexpr Millis kLoopTickMs = 1;                // epoll_wait timeout: the publish clock's grain
constexpr int kMaxPublisherFailures = 20;        // server-ended publisher connections in a row before giving up

Millis now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// ---------------------------------------------------------------- options

struct Options {
    int port = 0;
    std::string host = "127.0.0.1";
    int events = 3000;            // total over all topics
    int topics = 4;               // chaos-0 .. chaos-(K-1)
    int subscribers = 40;
    double publish_rate = 750;    // events per second
    int pipeline = 8;             // publish requests in flight on the one connection
    double disconnect_prob = 0.0015;  // per event received
    int slow = 4;                 // subscribers that pause reading
    Millis slow_pause_ms = 2500;
    Millis reconnect_max_ms = 50; // a cut subscriber comes back after 0..this
    std::uint64_t seed = 1;
    double deadline_s = 60;
    double stall_s = 10;          // give up once nothing new arrived for this long after publishing
    int last = 3;                 // ?last=N of every stream; the prelude is 2N events per topic
    double resend_prob = 0.05;    // a publish is sent twice in a row, with one Idempotency-Key
    double publisher_cut_prob = 0.01;  // per batch of publishes sent: the publisher cuts its connection
};

void usage() {
    std::fprintf(stderr,
                 "usage: sse-chaos --port N [--host ADDR] [--events N] [--topics K] [--subscribers S]\n"
                 "       [--publish-rate R] [--pipeline W] [--disconnect-prob P] [--slow S2]\n"
                 "       [--slow-pause-ms MS] [--reconnect-ms MS] [--seed N] [--deadline SECONDS]\n"
                 "       [--stall SECONDS] [--last N] [--resend-prob P] [--publisher-cut-prob P]\n");
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
    if constexpr (std::is_floating_point_v<T>) {
        char* end = nullptr;
        std::string copy(text);
        out = static_cast<T>(std::strtod(copy.c_str(), &end));
        return end && *end == '\0' && !copy.empty();
    } else {
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
        return ec == std::errc{} && ptr == text.data() + text.size();
    }
}

std::optional<Options> parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view flag = argv[i];
        if (i + 1 >= argc) return std::nullopt;
        std::string_view v = argv[++i];
        bool ok = flag == "--port"              ? parse_number(v, o.port)
                  : flag == "--host"            ? (o.host = std::string(v), true)
                  : flag == "--events"          ? parse_number(v, o.events)
                  : flag == "--topics"          ? parse_number(v, o.topics)
                  : flag == "--subscribers"     ? parse_number(v, o.subscribers)
                  : flag == "--publish-rate"    ? parse_number(v, o.publish_rate)
                  : flag == "--pipeline"        ? parse_number(v, o.pipeline)
                  : flag == "--disconnect-prob" ? parse_number(v, o.disconnect_prob)
                  : flag == "--slow"            ? parse_number(v, o.slow)
                  : flag == "--slow-pause-ms"   ? parse_number(v, o.slow_pause_ms)
                  : flag == "--reconnect-ms"    ? parse_number(v, o.reconnect_max_ms)
                  : flag == "--seed"            ? parse_number(v, o.seed)
                  : flag == "--deadline"        ? parse_number(v, o.deadline_s)
                  : flag == "--stall"           ? parse_number(v, o.stall_s)
                  : flag == "--last"            ? parse_number(v, o.last)
                  : flag == "--resend-prob"     ? parse_number(v, o.resend_prob)
                  : flag == "--publisher-cut-prob" ? parse_number(v, o.publisher_cut_prob)
                                                : false;
        if (!ok) return std::nullopt;
    }
    bool valid = o.port > 0 && o.events > 0 && o.topics > 0 && o.subscribers > 0 && o.publish_rate > 0 &&
                 o.pipeline > 0 && o.slow >= 0 && o.slow <= o.subscribers && o.deadline_s > 0 && o.last >= 1;
    return valid ? std::optional<Options>(o) : std::nullopt;
}

// ---------------------------------------------------------------- ids

// The server's ids are "<ms>-<seq>"; they compare as the pair.
struct EventId {
    std::uint64_t ms = 0;
    std::uint64_t seq = 0;
    auto operator<=>(const EventId&) const = default;

    static std::optional<EventId> parse(std::string_view text) {
        std::size_t dash = text.find('-');
        if (dash == std::string_view::npos) return std::nullopt;
        EventId id;
        if (!parse_number(text.substr(0, dash), id.ms) || !parse_number(text.substr(dash + 1), id.seq))
            return std::nullopt;
        return id;
    }
};

std::string topic_name(int topic) { return "chaos-" + std::to_string(topic); }

// ---------------------------------------------------------------- tallies

struct Tally {
    std::uint64_t deliveries = 0;        // data events dispatched, duplicates included
    std::uint64_t reconnects_self = 0;   // connections the subscriber cut
    std::uint64_t reconnects_server = 0; // connections that ended by EOF or RST from the server
    std::uint64_t resets = 0;            // `event: reset` seen
    std::uint64_t duplicated = 0;        // an n seen before on that subscriber
    std::uint64_t out_of_order = 0;      // an n below one already seen, first time
    std::uint64_t id_order_errors = 0;   // an id not above the last one dispatched
    std::uint64_t protocol_errors = 0;   // a foreign topic, a bad body, a data event without id
    std::uint64_t stalls = 0;            // pauses of slow subscribers
    std::uint64_t connect_failures = 0;  // refused, non-200 answer
    std::uint64_t publish_errors = 0;
    std::uint64_t publish_repeats = 0;     // publishes sent twice in a row on purpose
    std::uint64_t publisher_cuts = 0;      // publisher connections cut with requests unanswered
    std::uint64_t publisher_lost = 0;      // publisher connections the server ended
    std::uint64_t resent = 0;              // requests sent again after a cut
    std::uint64_t replayed = 0;            // answers marked Idempotent-Replayed
    std::uint64_t idempotency_errors = 0;  // one key answered with two ids
    int problems_logged = 0;
};

Tally tally;

// One line "who: what" on stderr, until kMaxLoggedProblems have been printed.
void problem(const std::string& who, const std::string& what) {
    if (tally.problems_logged++ < kMaxLoggedProblems) std::fprintf(stderr, "%s: %s\n", who.c_str(), what.c_str());
}

// ---------------------------------------------------------------- sockets

// A non-blocking TCP socket connecting to host:port; -1 on an immediate failure.
int start_connect(const Options& o, int receive_buffer) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (receive_buffer > 0) {
        // Set before connect, so the window the server sees is small from
        // the start. The small segment size matters as much on loopback:
        // Linux sizes a socket's send buffer from the peer's MSS, and with
        // loopback's 64 KiB MSS the server's kernel would hold megabytes
        // for a stalled reader before its own --max-buffer ever counted.
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
        ::setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &kSlowSegmentBytes, sizeof kSlowSegmentBytes);
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(o.port));
    ::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 && errno != EINPROGRESS) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// A reader back from a stall gets a normal receive window.
void recover_window(int fd) {
    int normal = 256 * 1024;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &normal, sizeof normal);
}

// Closes with SO_LINGER 0, so the peer gets RST instead of FIN.
void close_abortively(int fd) {
    linger hard{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ::close(fd);
}

// One blocking request with `Connection: close`; the whole answer, or "".
std::string blocking_request(const Options& o, const std::string& request) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return "";
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(o.port));
    ::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
    std::string answer;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
        char buffer[4096];
        ssize_t n;
        while ((n = ::read(fd, buffer, sizeof buffer)) > 0) answer.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return answer;
}

std::string publish_request(const Options& o, const std::string& topic, const std::string& body,
                            const std::string& key, bool last = false) {
    return "POST /publish?topic=" + topic + " HTTP/1.1\r\nHost: " + o.host +
           "\r\nContent-Type: application/json\r\nIdempotency-Key: \"" + key +
           "\"\r\nContent-Length: " + std::to_string(body.size()) + (last ? "\r\nConnection: close" : "") +
           "\r\n\r\n" + body;
}

std::string event_body(const std::string& topic, int n) {
    return "{\"topic\":\"" + topic + "\",\"n\":" + std::to_string(n) + "}";
}

// The value of `"key":"..."` in a flat JSON text, or "".
std::string json_string(std::string_view json, std::string_view key) {
    std::string needle = "\"" + std::string(key) + "\":\"";
    std::size_t at = json.find(needle);
    if (at == std::string_view::npos) return "";
    at += needle.size();
    std::size_t end = json.find('"', at);
    return end == std::string_view::npos ? "" : std::string(json.substr(at, end - at));
}

// The value of the counter `name` in a Prometheus text answer, or -1.
long long metric(const std::string& text, const std::string& name) {
    std::size_t at = text.find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::atoll(text.c_str() + at + name.size() + 2);
}

// ---------------------------------------------------------------- subscriber

// What one subscriber holds of one topic: which n it has seen.
struct TopicLedger {
    int topic = 0;
    int from = 1;            // the first n it must get: the newest --last of the prelude
    std::vector<bool> seen;  // index n, 1-based
    int highest = 0;
    int count = 0;
};

enum class Phase { Waiting, Connecting, Headers, Stream };
enum class Cut { None, MidEvent };

struct Subscriber {
    int index = 0;
    bool multi = false;
    bool slow = false;
    std::vector<TopicLedger> ledgers;

    int fd = -1;
    Phase phase = Phase::Waiting;
    Millis reconnect_at = 0;
    std::string input;
    bool ready = false;          // its first stream has sent `retry:`

    // Last-Event-ID: the event source's last event id, set only when an
    // event is dispatched (so a half-read event does not count), and the
    // per-connection id buffer the `id:` field writes.
    std::string last_id;
    std::optional<EventId> last_id_value;
    std::string id_buffer;
    std::string event_name, data;
    bool event_had_id = false;
    bool event_started = false;

    Cut cut = Cut::None;
    bool stalling = false;       // this connection pauses once, with a tiny receive buffer
    Millis paused_until = 0;
    Millis next_pause_at = 0;

    std::string who() const { return "subscriber " + std::to_string(index); }
    TopicLedger* ledger(int topic) {
        for (TopicLedger& l : ledgers)
            if (l.topic == topic) return &l;
        return nullptr;
    }
};

// ---------------------------------------------------------------- the test

class Chaos {
public:
    explicit Chaos(const Options& o)
        : o_(o),
          rng_(o.seed),
          prelude_(2 * o.last),
          published_(static_cast<std::size_t>(o.topics), 0),
          answered_(static_cast<std::size_t>(o.topics),
                    std::vector<std::string>(static_cast<std::size_t>(2 * o.last + o.events) + 1)),
          // Keys unique to this run, so a second run against the same
          // server is not answered from the first one's keys.
          key_prefix_("chaos-" + std::to_string(now_ms()) + "-") {}
    int run();

private:
    // A publish request sent and not yet answered (topic, n, its bytes).
    struct Pending {
        int topic = 0;
        int n = 0;
        std::string request;
    };

    void build_subscribers();
    bool publish_prelude();
    std::string key_of(int topic, int n) const { return key_prefix_ + std::to_string(topic) + "-" + std::to_string(n); }
    // The id answered for (topic, n): the first one is kept, a different
    // one later is an idempotency error.
    void record_answer(int topic, int n, const std::string& id);
    void loop_once(Millis timeout);
    bool holds_window(const Subscriber& s) const;
    int expected(const TopicLedger& l) const { return published_[static_cast<std::size_t>(l.topic)] - (l.from - 1); }
    bool everyone_ready() const;
    bool stalled() const;
    bool everything_arrived() const;
    std::uint64_t missing() const;
    void print_summary(Millis started, const std::string& metrics_text, long long server_published, bool ok) const;
    std::string server_metrics() const {
        return blocking_request(o_, "GET /metrics HTTP/1.1\r\nHost: " + o_.host + "\r\nConnection: close\r\n\r\n");
    }
    void report_incomplete() const;

    // subscribers
    void connect(Subscriber& s);
    void on_subscriber(Subscriber& s, std::uint32_t events);
    void send_request(Subscriber& s);
    bool read_headers(Subscriber& s);
    bool process_stream(Subscriber& s);
    bool process_line(Subscriber& s, std::string_view line);
    bool dispatch(Subscriber& s);
    void record(Subscriber& s, std::string_view id_text);
    bool maybe_cut_after_event(Subscriber& s);
    void close_by_self(Subscriber& s, bool abortive);
    void close_by_server(Subscriber& s, const char* how);
    void drop(Subscriber& s);
    void tick_subscribers(Millis now);
    void set_reading(Subscriber& s, bool on);

    // publisher
    void tick_publisher(Millis now);
    void on_publisher(std::uint32_t events);
    bool flush_publisher();
    void watch_publisher();
    bool read_publisher();
    // Connects, and queues every unanswered request again (after a cut).
    void open_publisher();
    void close_publisher(bool abortive);

    bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
    int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

    static constexpr std::uint64_t kPublisherKey = ~std::uint64_t{0};

    Options o_;
    std::mt19937_64 rng_;
    int epoll_ = -1;
    std::vector<Subscriber> subs_;
    int prelude_ = 0;              // events per topic published before subscribers connect

    std::vector<int> published_;   // per topic: the last n sent
    std::vector<std::vector<std::string>> answered_;  // per topic and n: the id first answered
    std::string key_prefix_;       // of every Idempotency-Key this run sends
    int sent_ = 0;
    int acked_ = 0;
    Millis publish_started_ = 0;
    Millis published_at_ = 0;      // when the last publish was answered
    Millis last_progress_ = 0;     // when a subscriber last got an event new to it
    int pub_fd_ = -1;
    std::string pub_out_;
    std::string pub_in_;
    std::deque<Pending> in_flight_;
    int publisher_failures_ = 0;   // connections lost in a row with no answer between
    bool fatal_ = false;
};

void Chaos::build_subscribers() {
    subs_.resize(static_cast<std::size_t>(o_.subscribers));
    for (int i = 0; i < o_.subscribers; ++i) {
        Subscriber& s = subs_[static_cast<std::size_t>(i)];
        s.index = i;
        s.slow = i < o_.slow;
        // Even: one topic. Odd: two or three distinct topics. A slow reader
        // takes every topic, so its backlog grows fast enough to be dropped.
        std::vector<int> topics;
        if (s.slow) {
            for (int t = 0; t < o_.topics; ++t) topics.push_back(t);
        } else if (i % 2 == 0 || o_.topics == 1) {
            topics.push_back(uniform(0, o_.topics - 1));
        } else {
            int want = std::min(o_.topics, uniform(2, 3));
            while (static_cast<int>(topics.size()) < want) {
                int t = uniform(0, o_.topics - 1);
                if (std::find(topics.begin(), topics.end(), t) == topics.end()) topics.push_back(t);
            }
        }
        s.multi = topics.size() > 1;
        for (int t : topics) {
            std::vector<bool> seen(static_cast<std::size_t>(prelude_ + o_.events) + 1);
            s.ledgers.push_back({t, prelude_ - o_.last + 1, std::move(seen), 0, 0});
        }
    }
}

// Before any subscriber connects: 2N events per topic, round-robin by n,
// so the older N of every topic have ids below the newest N of every topic
// (what ?last=N gives a first stream): a stream resuming after one of the
// newest never gets an older one, and one that does is caught. Each is
// sent twice with its key; the second answer must repeat the first's id.
bool Chaos::publish_prelude() {
    for (int n = 1; n <= prelude_; ++n) {
        for (int t = 0; t < o_.topics; ++t) {
            std::string request = publish_request(o_, topic_name(t), event_body(topic_name(t), n), key_of(t, n), true);
            for (int attempt = 0; attempt < 2; ++attempt) {
                std::string answer = blocking_request(o_, request);
                std::string id = json_string(answer, "id");
                if (answer.rfind("HTTP/1.1 200", 0) != 0 || !EventId::parse(id)) return false;
                if (attempt == 1 && answer.find("\r\nIdempotent-Replayed: true\r\n") != std::string::npos)
                    ++tally.replayed;
                record_answer(t, n, id);
            }
            published_[static_cast<std::size_t>(t)] = n;
        }
    }
    return true;
}

void Chaos::record_answer(int topic, int n, const std::string& id) {
    std::string& first = answered_[static_cast<std::size_t>(topic)][static_cast<std::size_t>(n)];
    if (first.empty()) {
        first = id;
        if (n > prelude_) ++acked_;
    } else if (first != id) {
        ++tally.idempotency_errors;
        problem("publisher", topic_name(topic) + " n=" + std::to_string(n) + " answered " + first + ", then " + id);
    }
}

void Chaos::connect(Subscriber& s) {
    // A slow subscriber stalls on some of its connections: those opened
    // while publishing goes on and its next stall is due.
    s.stalling = s.slow && sent_ < o_.events && now_ms() >= s.next_pause_at;
    s.fd = start_connect(o_, s.stalling ? kSlowReceiveBuffer : 0);
    if (s.fd < 0) {
        ++tally.connect_failures;
        problem(s.who(), std::string("connect: ") + std::strerror(errno));
        s.phase = Phase::Waiting;
        s.reconnect_at = now_ms() + o_.reconnect_max_ms + 10;
        return;
    }
    s.phase = Phase::Connecting;
    s.input.clear();
    s.id_buffer = s.last_id;
    s.event_name.clear();
    s.data.clear();
    s.event_had_id = s.event_started = false;
    s.cut = Cut::None;
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u64 = static_cast<std::uint64_t>(s.index);
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, s.fd, &ev);
}

void Chaos::send_request(Subscriber& s) {
    std::string target;
    // One URL for every connection, as an EventSource has: its ?last=N
    // fills the first stream, and the Last-Event-ID of a reconnection wins.
    std::string last = "last=" + std::to_string(o_.last);
    if (s.ledgers.size() == 1 && !s.multi) {
        target = "/latest/" + topic_name(s.ledgers[0].topic) + "?" + last;
    } else {
        target = "/latest?type=";
        for (std::size_t i = 0; i < s.ledgers.size(); ++i)
            target += (i ? "," : "") + topic_name(s.ledgers[i].topic);
        target += "&" + last;
    }
    std::string resume = s.last_id.empty() ? "" : "Last-Event-ID: " + s.last_id + "\r\n";
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: " + o_.host +
                          "\r\nAccept: text/event-stream\r\n" + resume + "\r\n";
    if (::send(s.fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
        close_by_server(s, "request write failed");
        return;
    }
    s.phase = Phase::Headers;
    set_reading(s, true);
}

void Chaos::set_reading(Subscriber& s, bool on) {
    epoll_event ev{};
    ev.events = on ? std::uint32_t{EPOLLIN} : 0;
    ev.data.u64 = static_cast<std::uint64_t>(s.index);
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, s.fd, &ev);
}

void Chaos::on_subscriber(Subscriber& s, std::uint32_t events) {
    if (s.phase == Phase::Connecting) {
        int error = 0;
        socklen_t len = sizeof error;
        ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &error, &len);
        if (error != 0) {
            ++tally.connect_failures;
            problem(s.who(), std::string("connect: ") + std::strerror(error));
            drop(s);
            return;
        }
        send_request(s);
        return;
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    char buffer[kReadBytes];
    ssize_t n = ::read(s.fd, buffer, sizeof buffer);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
        close_by_server(s, n == 0 ? "EOF" : std::strerror(errno));
        return;
    }
    s.input.append(buffer, static_cast<std::size_t>(n));
    if (s.phase == Phase::Headers && !read_headers(s)) return;
    if (s.phase == Phase::Stream) process_stream(s);
}

// Consumes the response head; false when the stream is not (yet) open.
bool Chaos::read_headers(Subscriber& s) {
    std::size_t end = s.input.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    if (s.input.rfind("HTTP/1.1 200", 0) != 0) {
        ++tally.connect_failures;
        problem(s.who(), std::string("answer ") + s.input.substr(0, s.input.find('\r')));
        drop(s);  // a failed attempt, not a chaos cut
        return false;
    }
    s.input.erase(0, end + 4);
    s.phase = Phase::Stream;
    return true;
}

// Handles every complete line of the input; false when the connection closed.
bool Chaos::process_stream(Subscriber& s) {
    std::size_t start = 0;
    for (;;) {
        std::size_t nl = s.input.find('\n', start);
        if (nl == std::string::npos) break;
        std::string_view line(s.input.data() + start, nl - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        start = nl + 1;
        if (!process_line(s, line)) return false;
    }
    s.input.erase(0, start);
    return true;
}

// One line of text/event-stream (the WHATWG parsing rules, the fields we use).
bool Chaos::process_line(Subscriber& s, std::string_view line) {
    if (line.empty()) return dispatch(s);
    if (line.front() == ':') return true;  // a comment: heartbeat
    std::size_t colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "retry") {
        s.ready = true;
        return true;
    }
    s.event_started = true;
    if (field == "id") {
        s.id_buffer = std::string(value);
        s.event_had_id = true;
    } else if (field == "event") {
        s.event_name = std::string(value);
    } else if (field == "data") {
        if (!s.data.empty()) s.data += '\n';
        s.data += value;
    }
    // "Sometimes after reading half an event": the event in progress is
    // never dispatched, so Last-Event-ID stays at the one before it.
    if (s.cut == Cut::MidEvent) {
        close_by_self(s, chance(0.5));
        return false;
    }
    return true;
}

// A blank line: the event is complete. False when the subscriber closed.
bool Chaos::dispatch(Subscriber& s) {
    bool started = s.event_started;
    std::string name = std::move(s.event_name);
    std::string data = std::move(s.data);
    bool had_id = s.event_had_id;
    s.event_name.clear();
    s.data.clear();
    s.event_started = s.event_had_id = false;
    if (!started) return true;
    if (name == "reset") {
        ++tally.resets;
        problem(s.who(), std::string("reset ") + data);
        return true;
    }
    if (data.empty()) return true;
    if (!had_id) {
        ++tally.protocol_errors;
        problem(s.who(), std::string("event without id: ") + data);
        return true;
    }
    std::string id_text = s.id_buffer;
    ++tally.deliveries;
    // Dispatching an event sets the source's last event id (the spec), so
    // the next reconnection resumes after it.
    std::optional<EventId> id = EventId::parse(id_text);
    if (!id || (s.last_id_value && !(*id > *s.last_id_value))) {
        ++tally.id_order_errors;
        problem(s.who(), std::string("id not increasing: ") + id_text + " after " + s.last_id);
    }
    s.last_id = id_text;
    if (id) s.last_id_value = id;
    // The check on the body.
    std::string topic = json_string(data, "topic");
    std::size_t n_at = data.find("\"n\":");
    int n = n_at == std::string::npos ? 0 : std::atoi(data.c_str() + n_at + 4);
    int t = topic.rfind("chaos-", 0) == 0 ? std::atoi(topic.c_str() + 6) : -1;
    TopicLedger* ledger = topic_name(t) == topic ? s.ledger(t) : nullptr;
    bool name_ok = s.multi ? name == topic : name.empty();
    if (!ledger || !name_ok || n < ledger->from || n >= static_cast<int>(ledger->seen.size())) {
        ++tally.protocol_errors;
        problem(s.who(), std::string("unexpected event: ") + "event " + name + " data " + data);
        return true;
    }
    auto at = static_cast<std::size_t>(n);
    if (ledger->seen[at]) {
        ++tally.duplicated;
        if (tally.duplicated <= 5) problem(s.who(), std::string("duplicate ") + topic + " n=" + std::to_string(n));
    } else {
        ledger->seen[at] = true;
        ++ledger->count;
        last_progress_ = now_ms();
        if (n < ledger->highest) {
            ++tally.out_of_order;
            if (tally.out_of_order <= 5) problem(s.who(), std::string("out of order ") + topic + " n=" + std::to_string(n));
        }
        ledger->highest = std::max(ledger->highest, n);
    }
    return maybe_cut_after_event(s);
}

// The self-inflicted chaos, decided once per event received.
bool Chaos::maybe_cut_after_event(Subscriber& s) {
    if (!chance(o_.disconnect_prob)) return true;
    switch (uniform(0, 2)) {
        case 0: close_by_self(s, false); return false;  // FIN, unread bytes dropped
        case 1: close_by_self(s, true); return false;   // RST
        default: s.cut = Cut::MidEvent; return true;    // within the next event
    }
}

void Chaos::close_by_self(Subscriber& s, bool abortive) {
    ++tally.reconnects_self;
    if (abortive) {
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, s.fd, nullptr);
        close_abortively(s.fd);
        s.fd = -1;
    }
    drop(s);
}

void Chaos::close_by_server(Subscriber& s, const char* how) {
    ++tally.reconnects_server;
    if (s.phase != Phase::Stream) problem(s.who(), std::string("closed before the stream: ") + how);
    drop(s);
}

// Closes (if still open) and schedules the reconnection.
void Chaos::drop(Subscriber& s) {
    if (s.fd >= 0) {
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, s.fd, nullptr);
        ::close(s.fd);
        s.fd = -1;
    }
    s.phase = Phase::Waiting;
    s.paused_until = 0;
    s.stalling = false;
    s.reconnect_at = now_ms() + uniform(0, static_cast<int>(o_.reconnect_max_ms));
}

void Chaos::tick_subscribers(Millis now) {
    for (Subscriber& s : subs_) {
        if (s.phase == Phase::Waiting && now >= s.reconnect_at) connect(s);
        if (!s.stalling || s.phase != Phase::Stream || publish_started_ == 0) continue;
        if (s.paused_until == 0) {
            // Stop reading: the tiny receive window fills, the server's
            // buffer passes --max-buffer and it drops this reader (unless
            // --max-stream-age ends the stream first).
            ++tally.stalls;
            s.paused_until = now + o_.slow_pause_ms;
            s.next_pause_at = s.paused_until + uniform(500, 2000);
            set_reading(s, false);
        } else if (now >= s.paused_until) {
            // Back to full speed, with a window that no longer crawls.
            s.paused_until = 0;
            s.stalling = false;
            recover_window(s.fd);
            set_reading(s, true);
        }
    }
}

// ---------------------------------------------------------------- publisher

// Sends what the rate allows, keeping at most `pipeline` requests in flight
// on one keep-alive connection. The server handles pipelined requests in
// order, so each topic's n reaches it in order. Some publishes are sent
// twice in a row: the key makes the second a repeat that publishes nothing.
void Chaos::tick_publisher(Millis now) {
    if (publish_started_ == 0 || fatal_) return;
    auto due = static_cast<int>(static_cast<double>(now - publish_started_) * o_.publish_rate / 1000.0) + 1;
    due = std::min(due, o_.events);
    if (sent_ >= due || static_cast<int>(in_flight_.size()) >= o_.pipeline) return;
    if (pub_fd_ < 0) open_publisher();
    if (fatal_) return;
    while (sent_ < due && static_cast<int>(in_flight_.size()) < o_.pipeline) {
        int t = uniform(0, o_.topics - 1);
        int n = ++published_[static_cast<std::size_t>(t)];
        Pending pending{t, n, publish_request(o_, topic_name(t), event_body(topic_name(t), n), key_of(t, n))};
        int copies = chance(o_.resend_prob) ? 2 : 1;
        tally.publish_repeats += static_cast<std::uint64_t>(copies - 1);
        for (int i = 0; i < copies; ++i) {
            pub_out_ += pending.request;
            in_flight_.push_back(pending);
        }
        ++sent_;
    }
    flush_publisher();
    // The publisher's own chaos: gone (FIN or RST) right after sending,
    // the answers unread. It comes back and sends them all again.
    if (chance(o_.publisher_cut_prob)) {
        ++tally.publisher_cuts;
        close_publisher(chance(0.5));
        open_publisher();
        if (fatal_) return;
    }
    watch_publisher();
}

// A new connection, with every request still unanswered queued first: they
// may or may not have been published, and their keys make that not matter.
// Requests of a topic keep their order, so its n still reach the server in
// order (a request the old connection delivered late is a repeat by then).
void Chaos::open_publisher() {
    pub_fd_ = start_connect(o_, 0);
    if (pub_fd_ < 0) {
        ++tally.publish_errors;
        fatal_ = true;
        return;
    }
    tally.resent += in_flight_.size();
    pub_out_.clear();
    for (const Pending& pending : in_flight_) pub_out_ += pending.request;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = kPublisherKey;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, pub_fd_, &ev);
}

void Chaos::close_publisher(bool abortive) {
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, pub_fd_, nullptr);
    if (abortive) close_abortively(pub_fd_);
    else ::close(pub_fd_);
    pub_fd_ = -1;
    pub_out_.clear();
    pub_in_.clear();
}

// Readable always; writable only while requests wait to be sent.
void Chaos::watch_publisher() {
    epoll_event ev{};
    ev.events = EPOLLIN | (pub_out_.empty() ? 0u : std::uint32_t{EPOLLOUT});
    ev.data.u64 = kPublisherKey;
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, pub_fd_, &ev);
}

bool Chaos::flush_publisher() {
    while (!pub_out_.empty()) {
        ssize_t n = ::send(pub_fd_, pub_out_.data(), pub_out_.size(), MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN || errno == EINTR || errno == ENOTCONN;
        pub_out_.erase(0, static_cast<std::size_t>(n));
    }
    return true;
}

void Chaos::on_publisher(std::uint32_t events) {
    bool ok = true;
    if (events & EPOLLOUT) ok = flush_publisher();
    if (ok && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) ok = read_publisher();
    if (fatal_) return;
    if (ok) {
        watch_publisher();
        return;
    }
    // Ended by the server: come back and send what is unanswered again.
    ++tally.publisher_lost;
    close_publisher(false);
    if (++publisher_failures_ > kMaxPublisherFailures) {
        ++tally.publish_errors;
        fatal_ = true;
        problem("publisher", "the server ended " + std::to_string(publisher_failures_) + " connections in a row");
        return;
    }
    if (!in_flight_.empty()) open_publisher();
}

// Reads answers; false when the connection ended or answered badly (then
// fatal_ is set).
bool Chaos::read_publisher() {
    char buffer[kReadBytes];
    ssize_t n = ::read(pub_fd_, buffer, sizeof buffer);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) return false;
    pub_in_.append(buffer, static_cast<std::size_t>(n));
    for (;;) {
        std::size_t head_end = pub_in_.find("\r\n\r\n");
        if (head_end == std::string::npos) return true;
        std::string head = pub_in_.substr(0, head_end);
        for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::size_t cl = head.find("content-length:");
        std::size_t length = cl == std::string::npos ? 0 : std::strtoul(head.c_str() + cl + 15, nullptr, 10);
        if (pub_in_.size() < head_end + 4 + length) return true;
        std::string body = pub_in_.substr(head_end + 4, length);
        std::string id = json_string(body, "id");
        bool ok = head.rfind("http/1.1 200", 0) == 0 && !in_flight_.empty() && !id.empty();
        pub_in_.erase(0, head_end + 4 + length);
        if (!ok) {
            ++tally.publish_errors;
            fatal_ = true;
            problem("publisher", std::string("bad answer ") + head.substr(0, head.find('\r')) + " " + body);
            return false;
        }
        if (head.find("\r\nidempotent-replayed: true") != std::string::npos) ++tally.replayed;
        record_answer(in_flight_.front().topic, in_flight_.front().n, id);
        in_flight_.pop_front();
        publisher_failures_ = 0;
    }
}

// ---------------------------------------------------------------- run

void Chaos::loop_once(Millis timeout) {
    epoll_event events[256];
    int n = ::epoll_wait(epoll_, events, 256, static_cast<int>(timeout));
    for (int i = 0; i < n; ++i) {
        std::uint64_t key = events[i].data.u64;
        if (key == kPublisherKey) {
            if (pub_fd_ >= 0) on_publisher(events[i].events);
            continue;
        }
        Subscriber& s = subs_[static_cast<std::size_t>(key)];
        if (s.fd >= 0) on_subscriber(s, events[i].events);
    }
    Millis now = now_ms();
    tick_subscribers(now);
    tick_publisher(now);
}

// Its first stream has begun and it holds the newest --last of the prelude
// of each of its topics (before publishing, nothing else exists).
bool Chaos::holds_window(const Subscriber& s) const {
    return s.ready && std::all_of(s.ledgers.begin(), s.ledgers.end(),
                                  [this](const TopicLedger& l) { return l.count >= expected(l); });
}

// Publishing starts once this holds: from then on every stream that ends
// has dispatched an event, so each reconnection carries a Last-Event-ID.
bool Chaos::everyone_ready() const {
    return std::all_of(subs_.begin(), subs_.end(), [this](const Subscriber& s) { return holds_window(s); });
}

// Publishing is over and no subscriber has got anything new for stall_s.
bool Chaos::stalled() const {
    Millis since = std::max(published_at_, last_progress_);
    return published_at_ > 0 && now_ms() - since > static_cast<Millis>(o_.stall_s * 1000);
}

bool Chaos::everything_arrived() const {
    if (acked_ < o_.events) return false;
    for (const Subscriber& s : subs_)
        for (const TopicLedger& l : s.ledgers)
            if (l.count < expected(l)) return false;
    return true;
}

std::uint64_t Chaos::missing() const {
    std::uint64_t missing = 0;
    for (const Subscriber& s : subs_)
        for (const TopicLedger& l : s.ledgers)
            missing += static_cast<std::uint64_t>(expected(l) - l.count);
    return missing;
}

// Names the first subscribers still missing events, on stderr.
void Chaos::report_incomplete() const {
    int named = 0;
    for (const Subscriber& s : subs_) {
        std::uint64_t lacking = 0;
        for (const TopicLedger& l : s.ledgers)
            lacking += static_cast<std::uint64_t>(expected(l) - l.count);
        if (lacking == 0 || named++ >= 10) continue;
        std::fprintf(stderr, "%s (%s%zu topics) lacks %llu events; Last-Event-ID %s\n", s.who().c_str(),
                     s.slow ? "slow, " : "", s.ledgers.size(), static_cast<unsigned long long>(lacking),
                     s.last_id.c_str());
    }
    if (named > 10) std::fprintf(stderr, "... and %d more subscribers lack events\n", named - 10);
}

// One JSON line; the server's own counters come from its /metrics.
void Chaos::print_summary(Millis started, const std::string& metrics_text, long long server_published,
                          bool ok) const {
    auto seconds = [](Millis from, Millis to) { return to > from ? static_cast<double>(to - from) / 1000.0 : 0.0; };
    Millis end = now_ms();
    std::vector<std::pair<const char*, double>> fields = {
        {"subscribers", o_.subscribers},
        {"topics", o_.topics},
        {"events_published", acked_},
        {"deliveries", static_cast<double>(tally.deliveries)},
        {"reconnects_self", static_cast<double>(tally.reconnects_self)},
        {"reconnects_server", static_cast<double>(tally.reconnects_server)},
        {"resets", static_cast<double>(tally.resets)},
        {"missing", static_cast<double>(missing())},
        {"duplicated", static_cast<double>(tally.duplicated)},
        {"out_of_order", static_cast<double>(tally.out_of_order)},
        {"id_order_errors", static_cast<double>(tally.id_order_errors)},
        {"protocol_errors", static_cast<double>(tally.protocol_errors)},
        {"stalls", static_cast<double>(tally.stalls)},
        {"connect_failures", static_cast<double>(tally.connect_failures)},
        {"publish_errors", static_cast<double>(tally.publish_errors)},
        {"prelude_events", static_cast<double>(prelude_ * o_.topics)},
        {"publish_repeats", static_cast<double>(tally.publish_repeats)},
        {"publisher_cuts", static_cast<double>(tally.publisher_cuts)},
        {"publisher_lost", static_cast<double>(tally.publisher_lost)},
        {"resent", static_cast<double>(tally.resent)},
        {"replayed", static_cast<double>(tally.replayed)},
        {"idempotency_errors", static_cast<double>(tally.idempotency_errors)},
        {"server_published", static_cast<double>(server_published)},
        {"server_aged_out", static_cast<double>(metric(metrics_text, "sse_streams_aged_out_total"))},
        {"server_slow_drops", static_cast<double>(metric(metrics_text, "sse_slow_subscriber_drops_total"))},
        {"publish_seconds", seconds(publish_started_, published_at_ ? published_at_ : end)},
        {"catch_up_seconds", seconds(published_at_, published_at_ ? end : 0)},
        {"seconds", seconds(started, end)},
    };
    std::string line = "{";
    for (const auto& [name, value] : fields) {
        char number[32];
        bool whole = value == static_cast<double>(static_cast<long long>(value));
        std::snprintf(number, sizeof number, whole ? "%.0f" : "%.2f", value);
        line += "\"" + std::string(name) + "\":" + number + ",";
    }
    line += std::string("\"verdict\":\"") + (ok ? "ok" : "fail") + "\"}";
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
}

int Chaos::run() {
    Millis started = now_ms();
    Millis deadline = started + static_cast<Millis>(o_.deadline_s * 1000);
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    build_subscribers();
    long long published_before = metric(server_metrics(), "sse_events_published_total");
    if (published_before < 0 || !publish_prelude()) {
        std::fprintf(stderr, "sse-chaos: cannot publish to %s:%d\n", o_.host.c_str(), o_.port);
        fatal_ = true;
    }
    for (Subscriber& s : subs_) {
        // Half the slow subscribers stall on their first stream.
        s.next_pause_at = s.index % 2 == 0 ? 0 : started + uniform(500, 2500);
        if (!fatal_) connect(s);
    }
    // Publishing starts once every subscriber's first stream is open and
    // has brought it the newest of the prelude.
    while (!fatal_ && now_ms() < deadline && !everyone_ready()) loop_once(kLoopTickMs);
    if (!fatal_ && everyone_ready()) {
        publish_started_ = now_ms();
        for (Subscriber& s : subs_)
            if (s.next_pause_at > 0) s.next_pause_at += publish_started_ - started;
        while (!fatal_ && now_ms() < deadline && !everything_arrived() && !stalled()) {
            loop_once(kLoopTickMs);
            if (acked_ == o_.events && published_at_ == 0) published_at_ = now_ms();
        }
        if (stalled()) std::fprintf(stderr, "sse-chaos: nothing new arrived for %.0f s: stopping\n", o_.stall_s);
    }
    if (publish_started_ == 0) std::fprintf(stderr, "sse-chaos: not every subscriber got its first stream in time\n");
    std::string metrics = server_metrics();
    // Each publish once on the server, however often it was sent.
    long long server_published = metric(metrics, "sse_events_published_total") - published_before;
    long long distinct = static_cast<long long>(prelude_) * o_.topics + o_.events;
    if (server_published != distinct)
        std::fprintf(stderr, "sse-chaos: the server published %lld events, %lld were distinct\n", server_published,
                     distinct);
    bool ok = !fatal_ && everything_arrived() && acked_ == o_.events && missing() == 0 && tally.duplicated == 0 &&
              tally.out_of_order == 0 && tally.resets == 0 && tally.id_order_errors == 0 &&
              tally.protocol_errors == 0 && tally.publish_errors == 0 && tally.idempotency_errors == 0 &&
              server_published == distinct;
    if (missing() > 0) report_incomplete();
    print_summary(started, metrics, server_published, ok);
    for (Subscriber& s : subs_)
        if (s.fd >= 0) ::close(s.fd);
    if (pub_fd_ >= 0) ::close(pub_fd_);
    ::close(epoll_);
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::optional<Options> options = parse_options(argc, argv);
    if (!options) {
        usage();
        return 2;
    }
    return Chaos(*options).run();
}
