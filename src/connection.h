// One client connection: reads requests, answers them in order, and may
// become a long-lived event stream.
//
// Life of a connection:
//
//   Request --(a route calls start_stream)--> Stream
//      |                                         |
//      +--(error, "Connection: close", EOF)--> Draining --(flushed)--> Lingering
//                                                |                       |
//                                           (peer gone)            (EOF or timeout)
//                                                +------> closed <-------+
//
// Output is never written from here directly: respond() and send() append
// to the OutputBuffer and ask the Server to flush this connection before the
// loop sleeps. Only the Server closes the fd (see Server::close_later).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "activity_list.h"
#include "chunked_decoder.h"
#include "http_parser.h"
#include "hub.h"
#include "http_response.h"
#include "output_buffer.h"
#include "socket.h"
#include "timer_queue.h"

namespace sse {

class Server;

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
// Unsent bytes a stream socket may hold in the kernel (TCP_NOTSENT_LOWAT).
// Beyond it writes wait in the stream's own buffer, where --max-buffer can
// see them; without it the kernel would quietly hold megabytes for a reader
// that has stopped.
inline constexpr int kStreamNotSentLowWaterBytes = 128 * 1024;
// After the last response of a closing connection, its input is read and
// discarded for at most this long, so the kernel does not answer the
// client's unread request bytes with a reset that would destroy our answer.
inline constexpr Millis kLingerMs = 2000;

class Connection : public StreamSink {
public:
    enum class Phase { Request, Stream, Draining, Lingering, Closed };
    // What the connection's timer is waiting for outside the Stream phase.
    enum class Deadline { None, Idle, Header, Body, Drain, Linger };

    Connection(Server& server, UniqueFd fd, const SocketAddress& peer);
    ~Connection() override;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    int fd() const { return fd_.get(); }
    const SocketAddress& peer() const { return peer_; }
    Phase phase() const { return phase_; }
    bool is_stream() const { return phase_ == Phase::Stream; }
    bool is_closed() const { return phase_ == Phase::Closed; }

    // Called by the loop with the epoll events of this fd.
    void on_events(std::uint32_t events);
    // Writes queued output; called by the Server's flush pass and on EPOLLOUT.
    void flush();

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
    // Answers the current request with a text/event-stream head plus
    // `extra_headers`, then the stream's "retry:" hint; from then on the
    // connection is a Stream. Returns false when it did not become one:
    // for HEAD, which gets the head only and stays a normal request, and
    // for a stream turned away for now (past --max-conns, or shutting
    // down), which gets a 200 with a "retry:" and closes, so that a
    // browser comes back instead of giving up.
    bool start_stream(const std::vector<std::pair<std::string, std::string>>& extra_headers = {});

    // --- For streams ---

    // Queues bytes on the stream (shared chunk, or bytes of its own).
    void send(const ChunkRef& chunk);
    void send(std::string bytes);
    // Sends what is queued, then closes.
    void end_stream();
    // StreamSink, for the hub: queue an event, dropping a subscriber whose
    // pending output passes --max-buffer; finish() ends the stream.
    void deliver(const ChunkRef& chunk) override;
    // A replay is accepted whole; its bytes widen the slow-subscriber limit
    // until they have been written, so only falling behind live events
    // drops a stream.
    void deliver_replay(const ChunkRef& chunk) override;
    void finish() override { end_stream(); }
    // Sends a last "retry:" (at least `retry_ms`, jittered upward, so that
    // streams paused together come back spread out) and ends the stream.
    void pause(std::optional<std::uint32_t> retry_ms) override;
    // Closes at once, dropping queued output (the peer is gone or too slow).
    void abort();

    std::size_t pending_bytes() const { return output_.pending_bytes(); }

    // The connection's one timer. Outside the Stream phase it holds the
    // current Deadline; a stream's owner may use it (e.g. /random's next
    // tick). Cancelled when the connection closes.
    TimerId& timer() { return timer_; }

    std::uint64_t bytes_sent() const { return bytes_sent_; }
    Millis request_started() const { return request_started_; }
    const std::string& log_method() const { return log_method_; }
    const std::string& log_target() const { return log_target_; }

    // Lets the owner of a stream clean up (unsubscribe) when it ends.
    void set_on_close(std::function<void()> on_close) { on_close_ = std::move(on_close); }

private:
    friend class Server;

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
    // The body of a stream turned away: a retry: and a comment saying why.
    void turn_away_stream();
    // Sets the deadline the connection's timer enforces (None: no timer).
    void set_deadline(Deadline deadline);
    void arm_deadline_timer();
    void on_deadline();
    // A stream whose writes stay blocked with no progress for
    // --idle-timeout-ms has a reader that stopped: it is dropped.
    void watch_for_stall();
    void check_stall(std::uint64_t sent_when_armed);
    void dispatch(const Request& request, std::string_view body);
    void fail(int status, std::string_view reason);
    void begin_draining();
    void begin_lingering();
    void update_interest();
    void queue_output();
    void release_input();

    Server& server_;
    UniqueFd fd_;
    SocketAddress peer_;
    Phase phase_ = Phase::Request;
    std::string input_;           // received, not yet consumed request bytes
    OutputBuffer output_;
    TimerId timer_;
    Deadline deadline_ = Deadline::None;
    Millis deadline_at_ = 0;            // when deadline_ expires
    // When timer_ fires, if it was armed for a deadline: it may be earlier
    // than deadline_at_ (see set_deadline), never later. -1: not armed for
    // a deadline (none, or a stream's owner holds the timer).
    Millis deadline_timer_due_ = -1;
    TimerId age_timer_;           // --max-stream-age
    TimerId stall_timer_;         // a stream whose socket stays full
    ActivityNode activity_;       // a stream's place in the heartbeat list
    std::size_t replay_unsent_ = 0;  // replayed bytes not yet written
    std::function<void()> on_close_;
    // Exists only while a chunked request body is being read.
    struct ChunkedBody {
        ChunkedDecoder decoder;
        std::string data;           // decoded so far
        std::size_t consumed = 0;   // raw body bytes the decoder used
    };
    std::unique_ptr<ChunkedBody> chunked_;

    // The request being answered (valid while a handler runs).
    Millis request_started_ = 0;
    std::uint64_t bytes_sent_ = 0;
    std::string log_method_;      // kept only with --access-log
    std::string log_target_;
    bool expectation_answered_ = false;  // "100 Continue" (or its refusal) sent
    bool request_is_head_ = false;
    bool request_keep_alive_ = true;
    int request_version_minor_ = 1;
    bool responded_ = false;

    std::uint32_t interest_ = 0;   // epoll events currently registered
    bool want_write_ = false;      // the socket was full at the last flush
    // Too much output waiting, or too much input behind a deferred answer
    // (when awaiting_): stop reading.
    bool input_paused_ = false;
    bool peer_closed_ = false;     // EOF seen while in Request phase
    bool in_pending_ = false;      // linked into the Server's flush list
    bool streamed_ = false;        // became a stream (for the access log)
    bool awaiting_ = false;        // a deferred answer is outstanding
    bool over_limit_ = false;      // accepted past --max-conns: /healthz only
    bool dispatching_ = false;     // a route handler is running
    std::uint64_t serial_ = 0;     // unique per connection, set by the Server
};

}  // namespace sse
