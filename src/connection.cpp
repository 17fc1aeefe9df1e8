// A client connection: reading requests, answering them, and streaming
// events, with its phases (Request, Stream, Draining, Lingering, Closed).
// Its timers are in connection_timers.cpp; the contracts in connection.h.
#include "connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "event_stream.h"
#include "log.h"
#include "router.h"
#include "server.h"

namespace sse {

Connection::Connection(Server& server, UniqueFd fd, const SocketAddress& peer)
    : server_(server), fd_(std::move(fd)), peer_(peer) {
    activity_.owner = this;
    set_deadline(Deadline::Idle);
}

Connection::~Connection() {
    // Normally Server::close_later has cancelled these already; this keeps
    // a connection destroyed any other way from leaving a timer behind.
    server_.loop().cancel_timer(timer_);
    server_.loop().cancel_timer(age_timer_);
    server_.loop().cancel_timer(stall_timer_);
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

void Connection::on_readable() {
    char buffer[kReadChunkBytes];
    ssize_t n;
    do {
        n = ::read(fd(), buffer, sizeof buffer);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) abort();
        return;
    }
    if (n == 0) {
        on_peer_closed();
        return;
    }
    server_.stats().bytes_read += static_cast<std::uint64_t>(n);
    // Streams and closing connections expect nothing more: discard it.
    if (phase_ != Phase::Request) return;
    // The first byte of a request starts its header deadline: a client
    // that trickles bytes (slowloris) is cut off then, whatever its pace.
    if (input_.empty() && deadline_ == Deadline::Idle) set_deadline(Deadline::Header);
    input_.append(buffer, static_cast<std::size_t>(n));
    process_input();
}

void Connection::on_peer_closed() {
    if (phase_ != Phase::Request) {
        // A stream's reader left, or a lingering close got its EOF.
        abort();
        return;
    }
    // The client may half-close after sending its requests (netcat does):
    // answer what is complete, then close once the answers are out.
    peer_closed_ = true;
    process_input();
    if (phase_ == Phase::Request) begin_draining();
    update_interest();
}

void Connection::process_input() {
    while (phase_ == Phase::Request && !input_.empty() && !awaiting_) {
        if (output_.pending_bytes() > kResponseHighWaterBytes) {
            input_paused_ = true;   // resumed by flush() once drained
            break;
        }
        if (!handle_next_request()) break;
    }
    // Requests behind a deferred answer wait; so, past a bound, do their bytes.
    if (awaiting_ && !input_paused_ && input_.size() > kMaxDeferredInputBytes) {
        input_paused_ = true;   // resumed by respond() with the deferred answer
        ++server_.stats().deferred_input_pauses;
    }
    // Request views point into input_ while a handler runs, so the buffer is
    // only given back here, after the handlers are done.
    if (input_.empty() || phase_ != Phase::Request) release_input();
    update_interest();
}

bool Connection::handle_next_request() {
    Request& request = server_.scratch_request();
    ParseResult parsed = parse_request(input_, request);
    if (parsed.status == ParseStatus::Incomplete) return false;
    if (parsed.status == ParseStatus::Error) {
        fail(parsed.error_status, parsed.error_reason);
        return false;
    }
    // Judged from the head alone, so the answer is the same whether or not
    // the body came with it.
    if (request.expectation == Expectation::Unsupported) {
        fail(417, "only Expect: 100-continue is supported");
        return false;
    }
    if (request.body_kind == BodyKind::None && request_needs_body(request.method)) {
        fail(411, "a request with a body needs Content-Length or chunked encoding");
        return false;
    }
    std::size_t body_length = 0;
    if (!read_body(request, parsed.consumed, body_length)) {
        if (phase_ == Phase::Request && deadline_ == Deadline::Header) {
            set_deadline(Deadline::Body);
            answer_expectation(request);
        }
        return false;
    }
    if (is_closed() || phase_ != Phase::Request) return false;

    std::string_view body = request.body_kind == BodyKind::Chunked
                                ? std::string_view(chunked_->data)
                                : std::string_view(input_).substr(parsed.consumed, body_length);
    dispatch(request, body);
    // The request's views point into input_: consume only after dispatch.
    input_.erase(0, parsed.consumed + body_length);
    chunked_.reset();
    expectation_answered_ = false;
    if (phase_ == Phase::Request) set_deadline(input_.empty() ? Deadline::Idle : Deadline::Header);
    return true;
}

bool Connection::request_needs_body(std::string_view method) {
    return method == "POST" || method == "PUT" || method == "PATCH";
}

void Connection::answer_expectation(const Request& request) {
    if (request.expectation != Expectation::Continue || expectation_answered_) return;
    expectation_answered_ = true;
    // "100 Continue" promises the body will be accepted, so ask the route
    // first (authorization, parameters). If it refuses, the body is never
    // read and the connection closes after the answer.
    request_is_head_ = false;
    request_keep_alive_ = false;
    request_version_minor_ = request.version_minor;
    responded_ = false;
    if (!server_.router().admits_body(*this, request)) {
        if (!responded_) fail(400, "request refused");
        return;
    }
    output_.append(std::string("HTTP/1.1 100 Continue\r\n\r\n"));
    queue_output();
}

bool Connection::read_body(const Request& request, std::size_t head_length,
                           std::size_t& raw_length) {
    if (request.body_kind == BodyKind::None) return true;
    std::uint64_t max_body = server_.options().max_event_bytes;
    if (request.body_kind == BodyKind::Length) {
        if (request.content_length > max_body) {
            fail(413, "request body too large");
            return false;
        }
        raw_length = static_cast<std::size_t>(request.content_length);
        return input_.size() - head_length >= raw_length;
    }
    if (!chunked_) chunked_ = std::make_unique<ChunkedBody>();
    ChunkedDecoder& decoder = chunked_->decoder;
    // Framing bytes (sizes, extensions) are bounded too, not only the data.
    if (chunked_->consumed > 2 * max_body + kMaxHeaderBytes) {
        fail(413, "request body too large");
        return false;
    }
    std::string_view unread = std::string_view(input_).substr(head_length + chunked_->consumed);
    chunked_->consumed += decoder.feed(unread, chunked_->data, max_body);
    if (decoder.state() == ChunkedDecoder::State::Error) {
        fail(decoder.error_status(), decoder.error_status() == 413 ? "request body too large"
                                                                   : "malformed chunked body");
        return false;
    }
    raw_length = chunked_->consumed;
    return decoder.state() == ChunkedDecoder::State::Done;
}

void Connection::dispatch(const Request& request, std::string_view body) {
    ++server_.stats().requests;
    if (Log::access_enabled()) {
        log_method_ = std::string(request.method);
        log_target_ = std::string(request.target);
    }
    request_is_head_ = request.method == "HEAD";
    request_keep_alive_ = request.keep_alive && !peer_closed_;
    request_version_minor_ = request.version_minor;
    request_started_ = server_.loop().now();
    responded_ = false;
    if (over_limit_ && !server_.router().serves_at_capacity(request)) {
        Response busy = Response::text(503, "too many connections, try again later");
        busy.headers.emplace_back("Retry-After", std::to_string(kBusyRetryAfterSeconds));
        busy.close = true;
        server_.stats().refused_at_limit++;
        respond(std::move(busy));
        return;
    }
    dispatching_ = true;
    server_.router().dispatch(*this, request, body);
    dispatching_ = false;
    if (!responded_ && phase_ == Phase::Request) {
        respond(Response::text(500, "the handler gave no answer"));
    }
}

void Connection::defer() {
    responded_ = true;
    awaiting_ = true;
}

void Connection::respond(Response response) {
    responded_ = true;
    if (phase_ != Phase::Request) return;
    if (awaiting_) {
        // A deferred answer, from a callback outside any handler: send it,
        // then go on with requests that were pipelined behind it (reading
        // them again if their bytes had passed kMaxDeferredInputBytes).
        awaiting_ = false;
        input_paused_ = false;
        respond(std::move(response));
        // Answered before the handler even returned: its caller goes on.
        if (phase_ == Phase::Request && !dispatching_) process_input();
        return;
    }
    // Past --max-conns a connection gets one answer, then gives its place back.
    bool keep_alive = request_keep_alive_ && !response.close && !server_.shutting_down() && !over_limit_;
    ConnectionHeader connection_header = ConnectionHeader::None;
    if (!keep_alive) connection_header = ConnectionHeader::Close;
    else if (request_version_minor_ == 0) connection_header = ConnectionHeader::KeepAlive;

    server_.count_response(response.status);
    if (Log::access_enabled()) {
        Log::access(peer_.to_string(), log_method_, log_target_, response.status, response.body.size(),
                    server_.loop().now() - request_started_);
    }
    // A small body rides in the head's buffer: one allocation, one iovec.
    // A big one (a file) is handed over as it is, never copied.
    bool body_sent = !request_is_head_ && !response.body.empty();
    bool body_joins_head = body_sent && response.body.size() <= kJoinBodyToHeadBytes;
    std::string head = format_head(response, connection_header, body_joins_head ? response.body.size() : 0);
    if (body_joins_head) head += response.body;
    output_.append(std::move(head));
    if (body_sent && !body_joins_head) output_.append(std::move(response.body));
    queue_output();
    if (!keep_alive) begin_draining();
}

bool Connection::start_stream(const std::vector<std::pair<std::string, std::string>>& extra_headers) {
    responded_ = true;
    if (phase_ != Phase::Request) return false;
    // A stream refused for a while (the server is full, or shutting down)
    // still gets a 200 event stream: any other answer would end the
    // browser's EventSource for good, while a retry: and a close bring it
    // back once the reason has passed.
    bool turned_away = over_limit_ || server_.shutting_down();
    bool closes = turned_away || (request_is_head_ && !request_keep_alive_);
    std::string head =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream\r\n"
        // no-transform: a proxy must not compress (and so buffer) events.
        "Cache-Control: no-cache, no-transform\r\n";
    head += closes ? "Connection: close\r\n" : "Connection: keep-alive\r\n";
    head += "X-Accel-Buffering: no\r\n";
    for (const auto& [name, value] : extra_headers) head += name + ": " + value + "\r\n";
    head += "\r\n";
    // A stream has no length: it ends when the connection closes. So the
    // connection cannot carry another request after it, and any pipelined
    // bytes are dropped.
    output_.append(std::move(head));
    queue_output();
    server_.count_response(200);
    if (request_is_head_ || turned_away) {
        // HEAD gets the head only; with no body to delimit, the connection
        // may carry the next request unless it closes.
        if (Log::access_enabled()) Log::access(peer_.to_string(), log_method_, log_target_, 200, 0, 0);
        if (!request_is_head_) turn_away_stream();
        if (closes) begin_draining();
        return false;
    }
    set_deadline(Deadline::None);  // the timer now belongs to the stream
    int low_water = kStreamNotSentLowWaterBytes;
    ::setsockopt(fd(), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &low_water, sizeof low_water);
    phase_ = Phase::Stream;
    streamed_ = true;
    output_.append(encode_retry(server_.jittered_retry_ms()));
    server_.stream_started(*this);
    update_interest();
    return true;
}

void Connection::turn_away_stream() {
    if (over_limit_) {
        // Spread wide: a herd refused together must not return together.
        ++server_.stats().refused_at_limit;
        output_.append(encode_retry(server_.capacity_retry_ms()));
        output_.append(encode_comment("server at capacity, come back after the retry delay"));
    } else {
        // Shutting down: come back, like every stream ended now, to
        // whichever instance is up by then.
        output_.append(encode_retry(server_.jittered_retry_ms()));
        output_.append(encode_comment("server shutting down, come back after the retry delay"));
    }
}

void Connection::send(const ChunkRef& chunk) {
    if (phase_ != Phase::Stream) return;
    output_.append(chunk);
    server_.stream_sent(*this);
    queue_output();
}

void Connection::send(std::string bytes) {
    if (phase_ != Phase::Stream) return;
    output_.append(std::move(bytes));
    server_.stream_sent(*this);
    queue_output();
}

void Connection::deliver_replay(const ChunkRef& chunk) {
    if (phase_ != Phase::Stream) return;
    replay_unsent_ += chunk.size();
    send(chunk);
}

void Connection::deliver(const ChunkRef& chunk) {
    if (phase_ != Phase::Stream) return;
    send(chunk);
    if (output_.pending_bytes() > server_.options().max_buffer + replay_unsent_) {
        // A reader this far behind would make us hold its backlog forever.
        // Dropping it is safe: it reconnects with Last-Event-ID and the
        // history gives it what it missed.
        ++server_.stats().slow_subscriber_drops;
        abort();
    }
}

void Connection::pause(std::optional<std::uint32_t> retry_ms) {
    if (phase_ != Phase::Stream) return;
    send(encode_retry(retry_ms ? server_.retry_at_least_ms(*retry_ms) : server_.jittered_retry_ms()));
    end_stream();
}

void Connection::end_stream() {
    if (phase_ == Phase::Stream) begin_draining();
}

void Connection::abort() {
    output_.clear();
    server_.close_later(*this);
}

void Connection::fail(int status, std::string_view reason) {
    // After a malformed request the framing of what follows is unknown, so
    // nothing after it may be read as a request: answer and close.
    request_is_head_ = false;
    request_keep_alive_ = false;
    request_version_minor_ = 1;
    Response response = Response::text(status, reason);
    response.close = true;
    respond(std::move(response));
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
        server_.close_later(*this);
        return;
    }
    phase_ = Phase::Lingering;
    ::shutdown(fd(), SHUT_WR);
    set_deadline(Deadline::Linger);
    update_interest();
}

void Connection::flush() {
    if (output_.empty()) return;
    WriteResult result = output_.write_to(fd());
    server_.stats().bytes_written += result.bytes_written;
    bytes_sent_ += result.bytes_written;
    replay_unsent_ -= std::min(replay_unsent_, result.bytes_written);
    if (result.status == WriteStatus::Failed) {
        abort();
        return;
    }
    want_write_ = result.status == WriteStatus::Blocked;
    if (want_write_ && phase_ == Phase::Stream) watch_for_stall();
    if (!want_write_) {
        server_.loop().cancel_timer(stall_timer_);
        stall_timer_ = TimerId{};
        if (phase_ == Phase::Draining) {
            begin_lingering();
            return;
        }
        // A pause for a deferred answer ends with that answer, not here.
        if (input_paused_ && !awaiting_) {
            input_paused_ = false;
            process_input();
            if (peer_closed_ && phase_ == Phase::Request) begin_draining();
        }
    }
    update_interest();
}

void Connection::queue_output() {
    server_.mark_pending(*this);
}

void Connection::update_interest() {
    if (is_closed()) return;
    // Read while requests may come (not paused, peer not finished), on a
    // stream (to notice the peer leaving) and while lingering (to discard).
    // While draining the last answer, only writability matters; a peer
    // that half-closed may still be reading that answer.
    bool reading = !peer_closed_ && phase_ != Phase::Draining &&
                   !(phase_ == Phase::Request && input_paused_);
    std::uint32_t wanted = reading ? (EPOLLIN | EPOLLRDHUP) : 0;
    if (want_write_) wanted |= EPOLLOUT;
    if (wanted == interest_) return;
    server_.loop().modify(fd(), wanted);
    interest_ = wanted;
}

void Connection::release_input() {
    // Give the memory back: an idle connection holds no input buffer.
    std::string().swap(input_);
}

}  // namespace sse
