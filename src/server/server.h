// The server: accepts connections, owns them, and flushes their output
// once per loop iteration.
//
// Ownership: the Server owns every Connection (indexed by fd) and is the
// only place that closes one. A connection never closes itself in the
// middle of a loop pass; it asks close_later() (through ConnectionOwner),
// and the close happens in the before-sleep hook, after the flush, where
// nothing refers to it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/connection.h"
#include "loop/event_loop.h"
#include "options.h"
#include "server/router.h"
#include "server/server_stats.h"
#include "loop/socket.h"
#include "server/stream.h"

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
// Connections accepted past --max-conns that are still read, so that each
// gets the refusal its client understands: /healthz is answered (load
// balancers probe exactly when a server is full), a stream request gets a
// 200 with a retry: (a browser follows it), anything else 503. Beyond this
// headroom a new connection is closed unread: without the request there is
// no telling a browser from a script, and a 503 would end an EventSource
// for good, while a dropped connection makes it come back.
inline constexpr std::size_t kCapacityHeadroom = 16;

class Server final : private ConnectionOwner {
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
    bool shutting_down() const { return context_.shutting_down; }

    EventLoop& loop() const { return loop_; }
    Router& router() { return router_; }
    const Options& options() const { return options_; }
    const SocketAddress& bound_address() const { return bound_; }
    const ServerStats& stats() const { return stats_; }
    std::size_t connection_count() const { return open_connections_; }
    std::size_t max_connections() const { return max_connections_; }
    std::size_t stream_count() const { return streams_.count(); }

    // The open connection named by `handle`, or nullptr if it has closed.
    Connection* find(Connection::Handle handle) const;

private:
    // ConnectionOwner
    void mark_pending(Connection& connection) override;
    void close_later(Connection& connection) override;

    void on_accept();
    bool add_connection(int fd, const SocketAddress& peer, bool over_limit);
    // Closes a connection past --max-conns and its headroom, unread.
    void shed(int fd);
    void log_at_capacity();   // rate-limited, like every error line
    bool before_sleep();
    void flush_pending();
    // Flushes up to `limit` entries of `list`; returns how many it took.
    std::size_t flush_list(std::vector<int>& list, std::size_t limit);
    void reap_closed();

    EventLoop& loop_;
    Options options_;
    Router router_;
    ServerStats stats_;
    Streams streams_;
    ConnectionContext context_;
    UniqueFd listener_;
    SocketAddress bound_;
    UniqueFd spare_fd_;   // released to shed a connection when out of fds
    std::vector<std::unique_ptr<Connection>> connections_;  // indexed by fd
    std::size_t open_connections_ = 0;
    std::size_t max_connections_ = 0;
    std::uint64_t next_serial_ = 1;
    // Fds with output to flush. Answers to requests (a publisher waiting
    // for its id) go first and are never capped; streams share the capped
    // pass, so a big fan-out cannot hold up the publishers that feed it.
    std::vector<int> pending_answers_;
    std::vector<int> pending_streams_;
    std::vector<int> closing_;   // fds to close at the next safe point
};

}  // namespace sse
