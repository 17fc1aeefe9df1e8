// A client connection: answering requests, streaming events and closing,
// through its phases (see connection.h). How bytes become requests is in
// connection_input.cpp, its deadline timer in connection_timers.cpp, a
// stream's own life in stream.cpp.
#include "server/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop/log.h"

namespace sse {

Connection::Connection(ConnectionContext& context, UniqueFd fd, const SocketAddress& peer, std::uint64_t serial,
                       bool over_limit)
    : context_(context), fd_(std::move(fd)), peer_(peer), serial_(serial), over_limit_(over_limit) {
    set_deadline(Deadline::Idle);
}

Connection::~Connection() {
    // A connection destroyed without close() (the server going away) must
    // not leave a timer behind either.
    cancel_timers();
}

bool Connection::watch() {
    interest_ = EPOLLIN | EPOLLRDHUP;
    return context_.loop.watch(fd(), interest_, [this](std::uint32_t events) { on_events(events); });
}

void Connection::on_events(std::uint32_t events) {
    if (is_closed()) return;
    if (events & EPOLLERR) {
        abort();
        return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) on_readable();
    if ((events & EPOLLOUT) && !is_closed()) flush();
}

void Connection::defer() {
    current_.answered = true;
    if (phase_ == Phase::Request) phase_ = Phase::Awaiting;
}

void Connection::respond(Response response) {
    current_.answered = true;
    if (!reads_requests()) return;
    bool deferred = phase_ == Phase::Awaiting;
    if (deferred) {
        // The deferred answer: requests pipelined behind it may go on, and
        // be read again if their bytes had passed kMaxDeferredInputBytes.
        phase_ = Phase::Request;
        input_paused_ = false;
        // The requests behind it are read from now on, so their header
        // deadline starts now.
        set_deadline(input_.empty() ? Deadline::Idle : Deadline::Header);
    }
    queue_answer(std::move(response));
    // Given from a callback outside any handler (not from within the
    // handler that deferred): this is where the pipelined requests resume.
    if (deferred && phase_ == Phase::Request && !dispatching_) {
        process_input();
        if (peer_closed_ && phase_ == Phase::Request) begin_draining();
    }
}

void Connection::queue_answer(Response response) {
    // Past --max-conns a connection gets one answer, then gives its place back.
    bool keep_alive = current_.keep_alive && !response.close && !context_.shutting_down && !over_limit_;
    ConnectionHeader connection_header = ConnectionHeader::None;
    if (!keep_alive) connection_header = ConnectionHeader::Close;
    else if (current_.version_minor == 0) connection_header = ConnectionHeader::KeepAlive;

    context_.stats.count_response(response.status);
    log_access(response.status, response.body.size(), context_.loop.now() - current_.started);
    // A small body rides in the head's buffer: one allocation, one iovec.
    // A big one (a file) is handed over as it is, never copied.
    bool body_sent = !current_.head && !response.body.empty();
    bool body_joins_head = body_sent && response.body.size() <= kJoinBodyToHeadBytes;
    std::string head = format_head(response, connection_header, body_joins_head ? response.body.size() : 0);
    if (body_joins_head) head += response.body;
    output_.append(std::move(head));
    if (body_sent && !body_joins_head) output_.append(std::move(response.body));
    queue_output();
    if (!keep_alive) begin_draining();
}

bool Connection::start_stream(const HeaderList& extra_headers) {
    current_.answered = true;
    if (phase_ != Phase::Request) return false;
    // A stream refused for a while (the server is full, or shutting down)
    // still gets a 200 event stream: any other answer would end the
    // browser's EventSource for good, while a retry: and a close bring it
    // back once the reason has passed.
    bool turned_away = over_limit_ || context_.shutting_down;
    bool closes = turned_away || (current_.head && !current_.keep_alive);
    output_.append(Streams::head(extra_headers, closes));
    queue_output();
    context_.stats.count_response(200);
    if (current_.head || turned_away) {
        // HEAD gets the head only; with no body to delimit, the connection
        // may carry the next request unless it closes.
        log_access(200, 0, 0);
        if (!current_.head) {
            if (over_limit_) ++context_.stats.refused_at_limit;
            output_.append(context_.streams.turned_away_body(over_limit_));
        }
        if (closes) begin_draining();
        return false;
    }
    // A stream has no length: it ends when the connection closes, so any
    // request bytes pipelined behind it are dropped.
    set_deadline(Deadline::None);  // the timer now belongs to the stream
    int low_water = kStreamNotSentLowWaterBytes;
    ::setsockopt(fd(), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &low_water, sizeof low_water);
    phase_ = Phase::Stream;
    current_.streamed = true;
    stream_.start(context_.streams, *this);
    update_interest();
    return true;
}

void Connection::write(const ChunkRef& chunk) {
    if (phase_ != Phase::Stream) return;
    output_.append(chunk);
    queue_output();
}

void Connection::end_stream() {
    if (phase_ == Phase::Stream) begin_draining();
}

void Connection::abort() {
    output_.clear();
    close();
}

void Connection::shutdown() {
    if (is_stream()) {
        // Clients come back spread over the retry window, to whichever
        // instance is up by then, and resume with Last-Event-ID.
        stream_.end_with_retry(std::nullopt);
    } else if (phase_ == Phase::Request && input_.empty() && output_.empty()) {
        close();
    }
}

void Connection::fail(int status, std::string_view reason) {
    // After a malformed request the framing of what follows is unknown, so
    // nothing after it may be read as a request: answer and close.
    current_.head = false;
    current_.keep_alive = false;
    current_.version_minor = 1;
    Response response = Response::text(status, reason);
    response.close = true;
    respond(std::move(response));
}

void Connection::log_access(int status, std::uint64_t bytes, Millis duration) const {
    if (!Log::access_enabled()) return;
    static const std::pair<std::string, std::string> kNone;
    const auto& [method, target] = current_.logged ? *current_.logged : kNone;
    Log::access(peer_.to_string(), method, target, status, bytes, duration);
}

void Connection::reaped() {
    if (on_close_) on_close_();
    if (current_.streamed) log_access(200, bytes_sent_, context_.loop.now() - current_.started);
}

void Connection::begin_draining() {
    if (phase_ == Phase::Closed || phase_ == Phase::Draining || phase_ == Phase::Lingering) return;
    phase_ = Phase::Draining;
    if (output_.empty()) {
        begin_lingering();
        return;
    }
    // A peer that never reads its last answer must not hold us forever.
    set_deadline(Deadline::Drain);
    queue_output();
}

void Connection::begin_lingering() {
    if (peer_closed_) {
        close();
        return;
    }
    phase_ = Phase::Lingering;
    ::shutdown(fd(), SHUT_WR);
    set_deadline(Deadline::Linger);
    update_interest();
}

void Connection::close() {
    if (is_closed()) return;
    phase_ = Phase::Closed;
    cancel_timers();
    context_.owner.close_later(*this);
}

void Connection::cancel_timers() {
    context_.loop.cancel_timer(timer_);
    timer_ = TimerId{};
    stream_.stop();
}

void Connection::flush_pending() {
    in_pending_ = false;
    if (!is_closed()) flush();
}

void Connection::flush() {
    if (output_.empty()) return;
    WriteResult result = output_.write_to(fd());
    context_.stats.bytes_written += result.bytes_written;
    bytes_sent_ += result.bytes_written;
    if (result.status == WriteStatus::Failed) {
        abort();
        return;
    }
    want_write_ = result.status == WriteStatus::Blocked;
    if (phase_ == Phase::Stream) stream_.flushed(result.bytes_written);
    if (!want_write_) {
        if (phase_ == Phase::Draining) {
            begin_lingering();
            return;
        }
        // A pause for a deferred answer ends with that answer, not here.
        if (input_paused_ && phase_ == Phase::Request) {
            input_paused_ = false;
            process_input();
            if (peer_closed_ && phase_ == Phase::Request) begin_draining();
        }
    }
    update_interest();
}

void Connection::queue_output() {
    if (in_pending_ || is_closed()) return;
    in_pending_ = true;
    context_.owner.mark_pending(*this);
}

void Connection::update_interest() {
    if (is_closed()) return;
    // Read while requests may come (not paused, peer not finished), on a
    // stream (to notice the peer leaving) and while lingering (to discard).
    // While draining the last answer, only writability matters; a peer
    // that half-closed may still be reading that answer.
    bool reading = !peer_closed_ && phase_ != Phase::Draining && !(reads_requests() && input_paused_);
    std::uint32_t wanted = reading ? (EPOLLIN | EPOLLRDHUP) : 0;
    if (want_write_) wanted |= EPOLLOUT;
    if (wanted == interest_) return;
    context_.loop.modify(fd(), wanted);
    interest_ = wanted;
}

void Connection::release_input() {
    // Give the memory back: an idle connection holds no input buffer.
    std::string().swap(input_);
}

}  // namespace sse
