// A connection's input: reading bytes, parsing requests, reading their
// bodies (with Expect: 100-continue) and dispatching them to the router.
// The rest of Connection is in connection.cpp; the contracts are in
// connection.h.
#include "server/connection.h"

#include <unistd.h>

#include <cerrno>
#include <memory>

#include "http/url.h"
#include "loop/log.h"
#include "server/router.h"

namespace sse {

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
    context_.stats.bytes_read += static_cast<std::uint64_t>(n);
    // Streams and closing connections expect nothing more: discard it.
    if (!reads_requests()) return;
    // The first byte of a request starts its header deadline: a client
    // that trickles bytes (slowloris) is cut off then, whatever its pace.
    // Bytes behind a deferred answer are not being read yet: their
    // deadline starts with the answer (respond()).
    if (input_.empty() && deadline_ == Deadline::Idle && phase_ == Phase::Request) set_deadline(Deadline::Header);
    input_.append(buffer, static_cast<std::size_t>(n));
    process_input();
}

void Connection::on_peer_closed() {
    if (!reads_requests()) {
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
    while (phase_ == Phase::Request && !input_.empty()) {
        if (output_.pending_bytes() > kResponseHighWaterBytes) {
            input_paused_ = true;   // resumed by flush() once drained
            break;
        }
        if (!handle_next_request()) break;
    }
    // Requests behind a deferred answer wait; so, past a bound, do their bytes.
    if (phase_ == Phase::Awaiting && !input_paused_ && input_.size() > kMaxDeferredInputBytes) {
        input_paused_ = true;   // resumed by respond() with the deferred answer
        ++context_.stats.deferred_input_pauses;
    }
    // Request views point into input_ while a handler runs, so the buffer is
    // only given back here, after the handlers are done.
    if (input_.empty() || !reads_requests()) release_input();
    update_interest();
}

bool Connection::handle_next_request() {
    Request& request = context_.scratch_request;
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
    // Behind a deferred answer only the idle limit runs (an answer that
    // never comes closes the connection): a 408 for the next request now
    // would go out as the deferred request's answer.
    if (phase_ == Phase::Awaiting) set_deadline(Deadline::Idle);
    else if (reads_requests()) set_deadline(input_.empty() ? Deadline::Idle : Deadline::Header);
    return true;
}

bool Connection::request_needs_body(std::string_view method) {
    return method == "POST" || method == "PUT" || method == "PATCH";
}

void Connection::answer_expectation(const Request& request) {
    if (request.expectation != Expectation::Continue || current_.expectation_answered) return;
    // "100 Continue" promises the body will be accepted, so ask the route
    // first (authorization, parameters). If it refuses, the body is never
    // read and the connection closes after the answer.
    begin_exchange(request);
    current_.expectation_answered = true;
    current_.head = false;
    current_.keep_alive = false;
    if (!context_.router.admits_body(*this, request)) {
        if (!current_.answered) fail(400, "request refused");
        return;
    }
    output_.append(std::string("HTTP/1.1 100 Continue\r\n\r\n"));
    queue_output();
}

bool Connection::read_body(const Request& request, std::size_t head_length,
                           std::size_t& raw_length) {
    if (request.body_kind == BodyKind::None) return true;
    std::uint64_t max_body = context_.options.max_event_bytes;
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

void Connection::begin_exchange(const Request& request) {
    current_ = Exchange{};
    if (Log::access_enabled()) {
        // A token in ?access_token= never reaches the log.
        current_.logged =
            std::make_unique<std::pair<std::string, std::string>>(request.method, redact_target(request.target));
    }
    current_.head = request.method == "HEAD";
    current_.keep_alive = request.keep_alive && !peer_closed_;
    current_.version_minor = request.version_minor;
    current_.started = context_.loop.now();
}

void Connection::dispatch(const Request& request, std::string_view body) {
    ++context_.stats.requests;
    begin_exchange(request);
    if (over_limit_ && !context_.router.serves_at_capacity(request)) {
        Response busy = Response::text(503, "too many connections, try again later");
        busy.headers.emplace_back("Retry-After", std::to_string(kBusyRetryAfterSeconds));
        busy.close = true;
        ++context_.stats.refused_at_limit;
        respond(std::move(busy));
        return;
    }
    dispatching_ = true;
    context_.router.dispatch(*this, request, body);
    dispatching_ = false;
    if (!current_.answered && phase_ == Phase::Request) {
        respond(Response::text(500, "the handler gave no answer"));
    }
}

}  // namespace sse
