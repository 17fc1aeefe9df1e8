// The server: accepts connections, owns them, and flushes their output
// once per loop iteration.
//
// Ownership: the Server owns every Connection (indexed by fd) and is the
// only place that closes one. Handlers never close a connection in the
// middle of a loop pass; they ask close_later(), and the close happens in
// the before-sleep hook, after the flush, where nothing refers to it.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "activity_list.h"
#include "connection.h"
#include "event_loop.h"
#include "http_parser.h"
#include "options.h"
#include "router.h"
#include "socket.h"

namespace sse {

// At most this many streams are written per flush pass (about a
// millisecond of sendmsg calls); the rest wait for the next iteration.
// Between passes the loop reads new publishes, so a big fan-out never
// stalls input, and events that meet in one stream's buffer in the
// meantime leave together in one writev: under load the cost per delivery
// drops below one system call per event.
inline constexpr std::size_t kMaxFlushesPerPass = 256;
// At most this many accept() calls per readiness event, for fairness.
inline constexpr int kMaxAcceptsPerEvent = 64;
// Descriptors kept free below the fd limit for the listener, the loop's own
// fds, files being served and the spare fd: the default --max-conns is the
// limit less this.
inline constexpr std::size_t kReservedFds = 64;
// A stream's place in the heartbeat order is refreshed at most once per
// heartbeat interval divided by this (see Server::stream_sent).
inline constexpr Millis kActivityGranularity = 8;
// What a client over --max-conns is told to wait before trying again.
inline constexpr int kBusyRetryAfterSeconds = 5;
// A stream turned away past --max-conns is told to come back after between
// 1 and this many times --retry-ms: later than usual, and spread over a
// window several times wider than the normal +-20%, so that browsers
// refused together do not all return in the same instant.
inline constexpr std::uint32_t kCapacityRetrySpread = 4;
// Connections accepted past --max-conns that are still read, so that each
// gets the refusal its client understands: /healthz is answered (load
// balancers probe exactly when a server is full), a stream request gets a
// 200 with a retry: (a browser follows it), anything else 503. Beyond this
// headroom a new connection is closed unread: without the request there is
// no telling a browser from a script, and a 503 would end an EventSource
// for good, while a dropped connection makes it come back.
inline constexpr std::size_t kCapacityHeadroom = 16;

struct ServerStats {
    std::uint64_t connections_accepted = 0;
    std::uint64_t requests = 0;
    std::uint64_t bytes_written = 0;
    std::uint64_t bytes_read = 0;               // from client sockets
    std::uint64_t deferred_input_pauses = 0;    // see kMaxDeferredInputBytes
    std::uint64_t accept_errors = 0;
    std::uint64_t slow_subscriber_drops = 0;
    std::uint64_t heartbeats = 0;
    std::uint64_t streams_aged_out = 0;
    std::uint64_t refused_at_limit = 0;
    std::uint64_t responses_by_class[6] = {};  // [1] = 1xx ... [5] = 5xx
    std::uint64_t timeouts_header = 0;
    std::uint64_t timeouts_body = 0;
    std::uint64_t timeouts_idle = 0;
    std::uint64_t timeouts_drain = 0;
};

class Server {
public:
    Server(EventLoop& loop, const Options& options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds, listens and starts accepting. False with `error` on failure.
    bool start(std::string& error);
    // Serves an already connected socket as if it had been accepted (used
    // by the fuzzer, which feeds the server through a socketpair).
    void adopt(UniqueFd fd, const SocketAddress& peer);
    // Stops accepting new connections (the listener is closed).
    void stop_accepting();
    // Graceful shutdown: stop accepting, give every stream a final jittered
    // "retry:" and end it, close idle connections, let requests in progress
    // finish; stop the loop when all are closed or after `deadline_ms`.
    void shutdown(Millis deadline_ms);
    bool shutting_down() const { return shutting_down_; }

    EventLoop& loop() const { return loop_; }
    Router& router() { return router_; }
    const Options& options() const { return options_; }
    const SocketAddress& bound_address() const { return bound_; }
    ServerStats& stats() { return stats_; }
    const ServerStats& stats() const { return stats_; }
    std::size_t connection_count() const { return open_connections_; }
    std::size_t max_connections() const { return max_connections_; }

    // The open connection named by `handle`, or nullptr if it has closed.
    Connection* find(Connection::Handle handle) const;

    // Links `connection` into the list flushed before the loop sleeps.
    void mark_pending(Connection& connection);
    // Closes `connection` at the next safe point.
    void close_later(Connection& connection);
    void count_response(int status);
    void count_timeout(Connection::Deadline deadline);

    // --- streams ---
    // The --retry-ms hint with +-20% jitter, so that clients of a restarted
    // server do not all come back in the same instant.
    std::uint32_t jittered_retry_ms();
    // The retry hint of a stream turned away for capacity: uniform between
    // --retry-ms and kCapacityRetrySpread times it.
    std::uint32_t capacity_retry_ms();
    // `base_ms` jittered upward by at most 20%: never sooner than asked.
    std::uint32_t retry_at_least_ms(std::uint32_t base_ms);
    // A connection became a stream: heartbeats and --max-stream-age start.
    void stream_started(Connection& connection);
    // A stream queued bytes: its heartbeat deadline moves.
    void stream_sent(Connection& connection);
    std::size_t stream_count() const { return streams_.size(); }

    // A Request to parse into: one per server, since a request is handled
    // completely before the next one is parsed.
    Request& scratch_request() { return scratch_request_; }

private:
    void on_accept();
    bool add_connection(int fd, const SocketAddress& peer);
    // Closes a connection past --max-conns and its headroom, unread.
    void shed(int fd);
    void log_at_capacity();   // rate-limited, like every error line
    bool before_sleep();
    void flush_pending();
    // Flushes up to `limit` entries of `list`; returns how many it took.
    std::size_t flush_list(std::vector<int>& list, std::size_t limit);
    void reap_closed();
    void arm_heartbeat();
    void send_heartbeats();

    EventLoop& loop_;
    Options options_;
    Router router_;
    UniqueFd listener_;
    SocketAddress bound_;
    UniqueFd spare_fd_;   // released to shed a connection when out of fds
    std::vector<std::unique_ptr<Connection>> connections_;  // indexed by fd
    std::size_t open_connections_ = 0;
    std::size_t max_connections_ = 0;
    bool shutting_down_ = false;
    std::uint64_t next_serial_ = 1;
    // Fds with output to flush. Answers to requests (a publisher waiting
    // for its id) go first and are never capped; streams share the capped
    // pass, so a big fan-out cannot hold up the publishers that feed it.
    std::vector<int> pending_answers_;
    std::vector<int> pending_streams_;
    std::vector<int> closing_;   // fds to close at the next safe point
    Request scratch_request_;
    ServerStats stats_;
    ActivityList streams_;       // open streams, quietest first
    TimerId heartbeat_timer_;
    ChunkRef heartbeat_;         // one shared ": heartbeat" comment
    std::mt19937 rng_;           // retry jitter
};

}  // namespace sse
