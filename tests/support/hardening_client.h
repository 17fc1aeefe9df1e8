// Client-side tools for the hardening tests, where the peer misbehaves on
// purpose: a socket whose receive buffer is set before it connects, that can
// half-close, and whose sends tolerate a server that has already hung up;
// a parser for every response in a captured byte string; and a way to find
// the server's process id, to signal it directly.
//
// Like client.h, every wait takes a deadline that guards against a hung
// server and is never asserted on.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/types.h>

#include "client.h"

namespace sse::test {

class RawSocket {
public:
    // Connects to 127.0.0.1:`port`. A `receive_buffer` is applied with
    // SO_RCVBUF before connect(), so the window the server sees is small
    // from the first byte.
    static RawSocket open(std::uint16_t port, std::optional<int> receive_buffer = std::nullopt);

    RawSocket(RawSocket&& other) noexcept;
    RawSocket& operator=(RawSocket&& other) noexcept;
    RawSocket(const RawSocket&) = delete;
    RawSocket& operator=(const RawSocket&) = delete;
    ~RawSocket();

    // Writes `bytes` in pieces of at most `piece` bytes. True when all were
    // written; false when the peer hung up first (EPIPE, ECONNRESET). Throws
    // TimeoutError if the peer stops reading for longer than the guard.
    bool send_tolerant(std::string_view bytes, std::size_t piece = 64 * 1024);

    // Waits for bytes and appends them to input(); false once the peer has
    // closed (FIN or RST). Throws TimeoutError at `deadline`.
    bool receive(Deadline deadline);
    // True when something (bytes or the close) is readable right now.
    bool readable_now() const;
    // Receives until the peer closes; false when the deadline passed first.
    bool wait_for_close(Deadline deadline = deadline_in(kGuardTimeout));
    // Receives until input() contains `needle`; false if the peer closed first.
    bool receive_until_contains(std::string_view needle, Deadline deadline = deadline_in(kGuardTimeout));

    // shutdown(SHUT_WR): the server reads end-of-stream, we can still read.
    void shutdown_write();
    // Abortive close: SO_LINGER 0, so the server gets a RST.
    void reset();

    std::string& input() { return input_; }
    bool was_reset() const { return was_reset_; }

private:
    explicit RawSocket(int fd) : fd_(fd) {}
    void close();
    int fd_ = -1;
    std::string input_;
    bool peer_closed_ = false;
    bool was_reset_ = false;
};

// Every complete response in `bytes`, in order (bodies delimited by
// Content-Length; 1xx, 204 and 304 have none; a response without a length
// takes the rest). Throws std::runtime_error on a malformed or cut response.
std::vector<Response> parse_responses(std::string_view bytes);

// Calls `attempt` until it returns true or `deadline` passes, pausing
// `pause` between tries; returns the last result. For states the server
// reaches on its own (a close noticed, a subscription removed), which a
// test can only observe by asking again.
bool retry_until(const std::function<bool()>& attempt, Deadline deadline = deadline_in(kGuardTimeout),
                 std::chrono::milliseconds pause = std::chrono::milliseconds(20));

// The pid of this process's child that listens on 127.0.0.1:`port`, found
// through /proc/net/tcp and the children's /proc/<pid>/fd; -1 if none.
// (ServerProcess has no pid() getter.)
pid_t find_server_pid(std::uint16_t port);

// The most a socket's kernel send buffer grows to (the last field of
// /proc/sys/net/ipv4/tcp_wmem; 4 MiB if unreadable). A backlog bigger than
// twice this cannot all leave the server's user-space buffer for a peer
// that never reads.
std::size_t kernel_send_buffer_max();

// The number after "subscribers": in `json`, or -1 when absent.
long subscribers_in(const std::string& json);

}  // namespace sse::test
