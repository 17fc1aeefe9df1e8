#include "publisher.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base.h"
#include "http.h"
#include "payload.h"
#include "report.h"

namespace sse_load {

namespace {

// Event i goes to topic t = i mod T (with --random-topics, a topic drawn
// from i alone, see topic_of), on connection t mod M; its seq is one more
// than the topic's previous event's. Pinning a topic to one connection,
// which waits for each answer before the next request, is what guarantees
// the server receives a topic's events in seq order: two connections could
// overtake each other.
class Publisher {
public:
    Publisher(const Options& options, Target target)
        : o_(options), target_(std::move(target)), sources_(options.sources, options.first_source),
          conns_(std::min(options.connections, options.topics.size())), last_seq_(options.topics.size(), options.first_seq - 1) {
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
        std::uint64_t seq = 0;       // its seq in its topic
        std::string out;             // request bytes not yet written
        std::size_t written = 0;
        std::string in;              // response bytes so far
        std::optional<ResponseHead> head;
        std::size_t body_start = 0;
        ChunkedDecoder chunks;
        std::int64_t sent_ns = 0;
    };

    std::size_t topic_count() const { return o_.topics.size(); }

    // The topic of event i: in turn, or at random. "Random" is a hash of i
    // (SplitMix64's finalizer), not a generator's state, so scanning ahead
    // for a connection's next event asks the same question twice and gets
    // the same answer; and every run draws the same topics.
    std::size_t topic_of(std::uint64_t event) const {
        if (!o_.random_topics) return event % topic_count();
        std::uint64_t z = event + 0x9e3779b97f4a7c15;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
        z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
        return (z ^ (z >> 31)) % topic_count();
    }
    std::size_t conn_of(std::uint64_t event) const { return topic_of(event) % conns_.size(); }

    std::uint64_t first_event_of(std::size_t c) const { return advance(c, 0); }
    // The first event index >= from that belongs to connection c (or
    // o_.events). In turn, one is at most T events on (every connection
    // has a topic); at random, about M on.
    std::uint64_t advance(std::size_t c, std::uint64_t from) const {
        for (std::uint64_t i = from; i < o_.events; ++i) {
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
        // Taken even if the event is then lost (a failed connect): its seq
        // is spent, so the readers count the gap as missing.
        conn.seq = ++last_seq_[topic_of(conn.current)];
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
        const std::string& topic = o_.topics[topic_of(conn.current)];
        std::uint64_t seq = conn.seq;
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
    std::vector<std::uint64_t> last_seq_;  // per topic: the seq of its latest event
    std::int64_t start_ = 0, first_send_ns_ = 0, last_answer_ns_ = 0;
    std::uint64_t published_ = 0, failed_ = 0;
    Histogram answer_ns_;
    std::map<std::string, std::uint64_t> errors_;
};

}  // namespace

void run_pub(const Options& options, Target target) { Publisher(options, std::move(target)).run(); }

}  // namespace sse_load
