#include "subscriber.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base.h"
#include "event_stream.h"
#include "http.h"
#include "payload.h"
#include "report.h"
#include "sequence.h"
#include "tokens.h"

namespace sse_load {

namespace {

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
    // --reconnect: when the server ended it (0 while it is not waiting to
    // come back), and the id it will send as Last-Event-ID.
    std::int64_t lost_ns = 0;
    std::int64_t retry_ms = 0;
    std::string last_id;
};

// The default reconnection delay of an EventSource that was sent no retry:.
constexpr std::int64_t kDefaultRetryMs = 3000;

class Subscriber {
public:
    Subscriber(const Options& options, Target target)
        : o_(options), target_(std::move(target)), sources_(options.sources, options.first_source), tokens_(options),
          streams_(options.streams) {}

    void run() {
        start_ = now_ns();
        std::int64_t deadline = start_ + static_cast<std::int64_t>(o_.duration_s * 1e9);
        Progress progress(o_.quiet, start_);
        while (!g_stop && !finished()) {
            std::int64_t now = now_ns();
            if (now >= deadline) break;
            reopen_due(now);
            open_more(now);
            progress.tick(now, [&] { return progress_line(); });
            if (now >= next_status_ns_) write_status(now);
            // While streams are still to open, wake every 10 ms to open more.
            bool opening = next_open_ < streams_.size() || !reopen_.empty();
            std::int64_t deadline_ms = (deadline - now) / 1'000'000 + 1;
            int timeout = static_cast<int>(std::min<std::int64_t>(
                {progress.ms_until_next(now), opening ? 10 : 1000, deadline_ms}));
            for (const epoll_event& ready : poller_.wait(timeout)) handle(streams_[ready.data.u64], ready.events);
        }
        write_status(now_ns());
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
        connect_stream(index, now);
    }

    void connect_stream(std::size_t index, std::int64_t now) {
        Stream& s = streams_[index];
        int error = 0;
        s.fd = start_connect(target_, sources_.next(), error);
        s.started_ns = now;
        if (s.fd < 0) return fail(s, errno_name(error));
        s.phase = Phase::Connecting;
        ++in_flight_;
        poller_.add(s.fd, EPOLLOUT, index);
    }

    // --reconnect: reopens the ended streams whose delay has passed, within
    // the same --connect-concurrency as first opens (a reconnect storm is
    // exactly what that bound is for).
    void reopen_due(std::int64_t now) {
        while (!reopen_.empty() && reopen_.top().due_ns <= now && in_flight_ < o_.connect_concurrency) {
            std::size_t index = reopen_.top().index;
            reopen_.pop();
            Stream& s = streams_[index];
            s.head.clear();
            s.chunks = ChunkedDecoder{};
            s.parser = EventStreamParser{};
            connect_stream(index, now);
        }
    }

    // Queues stream `s` (its fd closed) to be opened again after `delay_ms`.
    void schedule_reopen(Stream& s, std::int64_t now, std::int64_t delay_ms) {
        s.phase = Phase::Waiting;
        reopen_.push(Reopen{now + delay_ms * 1'000'000, index_of(s)});
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

    // Recomputed when the request is written rather than kept per stream,
    // and so is the stream's token.
    std::string request_of(std::size_t index) const {
        std::vector<std::string> topics = topics_of(index);
        std::string joined = join(topics, ',');
        std::string path = substitute(substitute(target_.path_pattern, "{topics}", joined), "{topic}", joined);
        std::string headers = tokens_.header_for(topics);
        const std::string& last_id = streams_[index].last_id;
        if (!last_id.empty()) headers.append("Last-Event-ID: ").append(last_id).append("\r\n");
        return format_get(target_, path, headers);
    }

    // --- events from epoll ---

    void handle(Stream& s, std::uint32_t events) {
        if (s.phase == Phase::Connecting) return on_connected(s, events);
        on_readable(s);
    }

    void on_connected(Stream& s, std::uint32_t events) {
        int error = socket_error(s.fd);
        if (error != 0 || (events & EPOLLERR)) return fail(s, errno_name(error ? error : ECONNREFUSED));
        std::string request = request_of(index_of(s));
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
        ++open_now_;
        peak_open_ = std::max(peak_open_, open_now_);
        if (s.lost_ns != 0) {
            back(s, now);
        } else {
            ++opened_;
            connect_ns_.add(static_cast<std::uint64_t>(now - s.started_ns));
            settled();
        }
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

    // The stream never got going (connect error, non-200 answer). A
    // reopen (--reconnect) that fails is tried again after the delay.
    void fail(Stream& s, const std::string& reason) {
        if (s.phase == Phase::Connecting || s.phase == Phase::ReadingHead) --in_flight_;
        close_fd(s);
        ++errors_[reason];
        if (s.lost_ns != 0) return schedule_reopen(s, now_ns(), s.retry_ms);
        s.phase = Phase::Failed;
        ++failed_;
        settled();
    }

    // A stream that was streaming ended (server closed it, reset, bad bytes).
    void lost(Stream& s, const std::string& reason) {
        if (s.phase != Phase::Streaming && s.phase != Phase::Done) return fail(s, reason);
        if (s.phase == Phase::Done) --done_;
        close_fd(s);
        --open_now_;
        ++errors_[reason];
        if (!o_.reconnect) {
            s.phase = Phase::Closed;
            ++closed_early_;
            return;
        }
        std::int64_t now = now_ns();
        s.lost_ns = now;
        if (!s.parser.last_id().empty()) s.last_id = s.parser.last_id();
        // What an EventSource waits before reconnecting: the last retry:
        // the stream was sent, else the default.
        s.retry_ms = s.parser.retry_ms() >= 0 ? s.parser.retry_ms() : kDefaultRetryMs;
        if (first_loss_ns_ == 0) first_loss_ns_ = now;
        ++reconnecting_;
        schedule_reopen(s, now, s.retry_ms);
    }

    // A reopened stream has its head again: it is back.
    void back(Stream& s, std::int64_t now) {
        reconnect_ns_.add(static_cast<std::uint64_t>(now - s.lost_ns));
        s.lost_ns = 0;
        last_back_ns_ = now;
        --reconnecting_;
        ++reconnects_;
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

    // --status-file: the counts, then the latency buckets; written to a
    // temporary name and renamed, so a reader never sees half a file.
    void write_status(std::int64_t now) {
        next_status_ns_ = now + kNsPerSecond;
        if (o_.status_file.empty()) return;
        std::string temporary = o_.status_file + ".tmp";
        {
            std::ofstream out(temporary);
            out << "open " << open_now_ << " failed " << failed_ << " closed " << closed_early_ << " reconnecting "
                << reconnecting_ << " events " << events_ << " reconnects " << reconnects_ << " first_loss_ns "
                << first_loss_ns_ << " last_back_ns " << last_back_ns_ << "\n";
            schedule_latency_ns_.for_each_bucket([&](std::uint64_t low, std::uint64_t high, std::uint64_t count) {
                out << "latency " << low << " " << high << " " << count << "\n";
            });
        }
        std::rename(temporary.c_str(), o_.status_file.c_str());
    }

    bool finished() const {
        std::size_t dead = failed_ + closed_early_;
        if (dead == streams_.size()) return true;  // nothing more can arrive
        return o_.expect > 0 && done_ + dead == streams_.size();
    }

    // --- output ---

    std::string progress_line() const {
        char line[240];
        int length = std::snprintf(
            line, sizeof line, "sub: open %zu/%zu failed %zu closed %zu events %llu (+%llu) p99 %.1f ms", open_now_,
            streams_.size(), failed_, closed_early_, static_cast<unsigned long long>(events_),
            static_cast<unsigned long long>(events_ - events_at_last_line_),
            static_cast<double>(latency_ns_.percentile(99)) / 1e6);
        if (o_.reconnect && length > 0 && static_cast<std::size_t>(length) < sizeof line) {
            std::snprintf(line + length, sizeof line - static_cast<std::size_t>(length),
                          " reconnecting %zu back %llu", reconnecting_,
                          static_cast<unsigned long long>(reconnects_));
        }
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
        if (o_.reconnect) {
            json.field("reconnects", static_cast<double>(reconnects_))
                .object("reconnect_ms", percentiles(reconnect_ns_, 1e6, false))
                .field("reconnecting", static_cast<double>(reconnecting_))
                .field("first_loss_ns", static_cast<double>(first_loss_ns_))
                .field("last_back_ns", static_cast<double>(last_back_ns_));
        }
        json.field("client_cpu_s", own_cpu_seconds());
        std::printf("%s\n", json.text().c_str());
    }

    const Options& o_;
    Target target_;
    SourceAddresses sources_;
    Tokens tokens_;
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
    std::int64_t next_status_ns_ = 0;
    // --reconnect: streams waiting to be reopened, soonest first.
    struct Reopen {
        std::int64_t due_ns;
        std::size_t index;
        bool operator>(const Reopen& other) const { return due_ns > other.due_ns; }
    };
    std::priority_queue<Reopen, std::vector<Reopen>, std::greater<>> reopen_;
    std::size_t reconnecting_ = 0;   // ended, not back yet
    std::uint64_t reconnects_ = 0;   // came back
    std::int64_t first_loss_ns_ = 0, last_back_ns_ = 0;
    Histogram connect_ns_, latency_ns_, schedule_latency_ns_, reconnect_ns_;
    SequenceCounts counts_;
    std::map<std::string, std::uint64_t> errors_;
};

}  // namespace

void run_sub(const Options& options, Target target) { Subscriber(options, std::move(target)).run(); }

}  // namespace sse_load
