// One client connection: reads requests, answers them in order, and may
// become a long-lived event stream.
//
// Life of a connection (its Phase):
//
//   Request <--(deferred answer given)-- Awaiting
//      |  \--(a handler defers)------------^
//      |
//      +--(a route calls start_stream)--> Stream
//      |                                    |
//      +--(error, "Connection: close", EOF, end of stream)--> Draining
//                                                               |
//                               (answer flushed) Lingering <----+
//                                                   |           |
//                                      (EOF or timeout)    (peer gone)
//                                                   +--> Closed <+
//
// Output is never written from here directly: answers and stream bytes are
// appended to the OutputBuffer, and the owner is asked to flush this
// connection before the loop sleeps. The connection never closes its own
// fd: it asks its owner (close_later), which destroys it at a safe point.
// It talks to its owner only through ConnectionOwner and ConnectionContext,
// declared here, so it never includes server.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/chunked_decoder.h"
#include "loop/event_loop.h"
#include "http/http_parser.h"
#include "http/http_response.h"
#include "sse/hub.h"
#include "options.h"
#include "loop/output_buffer.h"
#include "server/server_stats.h"
#include "loop/socket.h"
#include "server/stream.h"

namespace sse {

class Connection;
class Router;

// Bytes read from the socket per read() call.
inline constexpr std::size_t kReadChunkBytes = 16 * 1024;
// Once this much response output is waiting, pipelined requests wait too:
// a client that sends requests but never reads answers cannot fill memory.
inline constexpr std::size_t kResponseHighWaterBytes = 1024 * 1024;
// While a request waits for a deferred answer (a publish waiting for Redis),
// the requests pipelined behind it wait too, so their bytes pile up unread.
// Past this much the server stops reading the connection, as for
// kResponseHighWaterBytes, and reads on once the answer is given. A read is
// appended whole before the check, so the input may pass this by at most
// kReadChunkBytes. Counted in sse_deferred_input_pauses_total.
inline constexpr std::size_t kMaxDeferredInputBytes = 1024 * 1024;
// A response body up to this size is copied behind its head, so the answer
// is one buffer; a bigger one (a file) keeps its own buffer, uncopied.
inline constexpr std::size_t kJoinBodyToHeadBytes = 4 * 1024;
// After the last response of a closing connection, its input is read and
// discarded for at most this long, so the kernel does not answer the
// client's unread request bytes with a reset that would destroy our answer.
inline constexpr Millis kLingerMs = 2000;
// What a client over --max-conns is told to wait before trying again.
inline constexpr int kBusyRetryAfterSeconds = 5;

// What a connection asks of its owner (the Server).
class ConnectionOwner {
public:
    // Links `connection` into the list flushed before the loop sleeps.
    virtual void mark_pending(Connection& connection) = 0;
    // Destroys `connection` at the next safe point, after the flush, where
    // nothing refers to it; its fd is closed then.
    virtual void close_later(Connection& connection) = 0;

protected:
    ~ConnectionOwner() = default;
};

// What every connection of a server shares: one per server, outliving its
// connections.
struct ConnectionContext {
    EventLoop& loop;
    const Options& options;
    const Router& router;
    Streams& streams;
    ServerStats& stats;
    ConnectionOwner& owner;
    // One Request to parse into, since a request is handled completely
    // before the next one is parsed.
    Request scratch_request{};
    bool shutting_down = false;
};

class Connection : public StreamSink, private StreamSocket {
public:
    enum class Phase { Request, Awaiting, Stream, Draining, Lingering, Closed };
    // What the connection's timer is waiting for outside the Stream phase.
    enum class Deadline { None, Idle, Header, Body, Drain, Linger };

    // `over_limit`: accepted past --max-conns; it gets one answer, and only
    // routes that serve at capacity run (see AtCapacity).
    Connection(ConnectionContext& context, UniqueFd fd, const SocketAddress& peer, std::uint64_t serial,
               bool over_limit);
    ~Connection() override;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Registers the fd with the loop; false (errno set) if epoll refused it.
    bool watch();

    int fd() const { return fd_.get(); }
    const SocketAddress& peer() const { return peer_; }
    Phase phase() const { return phase_; }
    bool is_stream() const { return phase_ == Phase::Stream; }
    bool is_closed() const { return phase_ == Phase::Closed; }

    // Called by the loop with the epoll events of this fd.
    void on_events(std::uint32_t events);

    // --- For the owner ---

    // True while linked in the owner's flush list (since queue_output()).
    bool pending() const { return in_pending_; }
    // The owner's flush pass: unlinks it and writes what is queued.
    void flush_pending();
    // Graceful shutdown: a stream gets a final jittered "retry:" and ends;
    // an idle connection closes; a request in progress goes on.
    void shutdown();
    // Called once by the owner right before it destroys a closed
    // connection: runs the on_close hook (a stream unsubscribes) and logs
    // a finished stream. Deferred to here so that a close during a hub's
    // delivery loop never changes the list that loop walks.
    void reaped();

    // --- For route handlers, while they handle this connection's request ---

    // Queues the answer to the current request (the body is left out for
    // HEAD). A response with `close` set ends the connection after it.
    void respond(Response response);
    // The handler will answer later (e.g. when Redis replies): the request
    // stays current, pipelined requests wait, and respond() may be called
    // from another callback. Use handle() to find the connection again.
    void defer();
    // Names this connection for a later callback; Server::find() returns
    // nullptr once it has closed, even if its fd number was reused.
    struct Handle {
        int fd = -1;
        std::uint64_t serial = 0;
    };
    Handle handle() const { return Handle{fd(), serial_}; }
    std::uint64_t serial() const { return serial_; }
    // Answers the current request with a text/event-stream head plus
    // `extra_headers`, then the stream's "retry:" hint; from then on the
    // connection is a Stream. Returns false when it did not become one:
    // for HEAD, which gets the head only and stays a normal request, and
    // for a stream turned away for now (past --max-conns, or shutting
    // down), which gets a 200 with a "retry:" and closes, so that a
    // browser comes back instead of giving up.
    bool start_stream(const HeaderList& extra_headers = {});

    // --- For streams ---

    // Queues bytes on the stream; they count as activity (no heartbeat).
    void send(const ChunkRef& chunk) { stream_.send(chunk); }
    void send(std::string bytes) { stream_.send(ChunkRef::make(std::move(bytes))); }
    // Sends what is queued, then closes.
    void end_stream();
    // StreamSink, for the hub: see Stream for what each does.
    void deliver(const ChunkRef& chunk) override { stream_.deliver(chunk); }
    void deliver_replay(const ChunkRef& chunk) override { stream_.deliver_replay(chunk); }
    void finish() override { end_stream(); }
    void pause(std::optional<std::uint32_t> retry_ms) override { stream_.end_with_retry(retry_ms); }
    // Closes at once, dropping queued output (the peer is gone or too slow).
    void abort();

    // The connection's one timer. Outside the Stream phase it holds the
    // current Deadline; a stream's owner may use it (e.g. /random's next
    // tick). Cancelled when the connection closes.
    TimerId& timer() { return timer_; }

    // Lets the owner of a stream clean up (unsubscribe) when it ends.
    void set_on_close(std::function<void()> on_close) { on_close_ = std::move(on_close); }

private:
    // The request being answered: what its answer depends on.
    struct Exchange {
        Millis started = 0;
        // Method and target, kept only with --access-log: two strings in
        // every connection would cost 64 bytes per idle stream for nothing.
        std::unique_ptr<std::pair<std::string, std::string>> logged;
        int version_minor = 1;
        bool head = false;                  // HEAD: the answer has no body
        bool keep_alive = true;
        bool answered = false;              // respond(), defer() or start_stream() was called
        bool expectation_answered = false;  // "100 Continue" (or its refusal) sent
        bool streamed = false;              // it became a stream (for the access log)
    };
    // Exists only while a chunked request body is being read.
    struct ChunkedBody {
        ChunkedDecoder decoder;
        std::string data;           // decoded so far
        std::size_t consumed = 0;   // raw body bytes the decoder used
    };

    // StreamSocket, for the Stream embedded here.
    void write(const ChunkRef& chunk) override;
    void end() override { end_stream(); }
    void drop() override { abort(); }
    std::size_t pending_bytes() const override { return output_.pending_bytes(); }
    std::uint64_t bytes_sent() const override { return bytes_sent_; }
    bool write_blocked() const override { return want_write_; }

    bool reads_requests() const { return phase_ == Phase::Request || phase_ == Phase::Awaiting; }
    void on_readable();
    void on_peer_closed();
    void process_input();
    // Handles the request at the front of input_; false when it must wait.
    bool handle_next_request();
    bool read_body(const Request& request, std::size_t head_length, std::size_t& raw_length);
    static bool request_needs_body(std::string_view method);
    // For a request that expects 100-continue and whose body is still to
    // come: "100 Continue" once, if the route will accept the body.
    void answer_expectation(const Request& request);
    // The request becomes the one being answered (current_).
    void begin_exchange(const Request& request);
    void dispatch(const Request& request, std::string_view body);
    // Queues the answer: the head, the body unless HEAD, then drains if the
    // connection closes after it.
    void queue_answer(Response response);
    void fail(int status, std::string_view reason);
    void log_access(int status, std::uint64_t bytes, Millis duration) const;
    // Sets the deadline the connection's timer enforces (None: no timer).
    // In connection_timers.cpp, with the two below.
    void set_deadline(Deadline deadline);
    void arm_deadline_timer();
    void on_deadline();
    void flush();
    void begin_draining();
    void begin_lingering();
    // Closed: cancels its timers and asks the owner to destroy it.
    void close();
    void cancel_timers();
    void update_interest();
    void queue_output();
    void release_input();

    ConnectionContext& context_;
    UniqueFd fd_;
    SocketAddress peer_;
    std::uint64_t serial_;        // unique per connection, from the owner
    Phase phase_ = Phase::Request;
    std::string input_;           // received, not yet consumed request bytes
    OutputBuffer output_;
    std::uint64_t bytes_sent_ = 0;
    TimerId timer_;
    Deadline deadline_ = Deadline::None;
    Millis deadline_at_ = 0;            // when deadline_ expires
    // When timer_ fires, if it was armed for a deadline: it may be earlier
    // than deadline_at_ (see set_deadline), never later. -1: not armed for
    // a deadline (none, or a stream's owner holds the timer).
    Millis deadline_timer_due_ = -1;
    Stream stream_;               // started by start_stream()
    std::function<void()> on_close_;
    std::unique_ptr<ChunkedBody> chunked_;
    Exchange current_;

    // The few flags that are independent of the phase.
    std::uint32_t interest_ = 0;   // epoll events currently registered
    bool want_write_ = false;      // the socket was full at the last flush
    // Too much output waiting, or (Awaiting) too much input behind the
    // deferred answer: stop reading.
    bool input_paused_ = false;
    bool peer_closed_ = false;     // EOF seen while reading requests
    bool in_pending_ = false;      // linked into the owner's flush list
    bool over_limit_;              // accepted past --max-conns: one answer
    bool dispatching_ = false;     // a route handler is running
};

}  // namespace sse
