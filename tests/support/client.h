// A raw TCP client for integration tests: it sends exactly the bytes a test
// writes (malformed requests included) and parses what comes back, one HTTP
// response at a time, so pipelined answers can be checked in order.
//
// Every wait takes a deadline and throws TimeoutError when it passes; the
// deadlines guard against a hung server and are never asserted on.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "server_process.h"

namespace sse::test {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// A deadline `timeout` from now.
inline Deadline deadline_in(Clock::duration timeout) { return Clock::now() + timeout; }

struct TimeoutError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A runtime_error saying `what` failed, with the errno text.
std::runtime_error errno_error(const std::string& what);
// Milliseconds from now until `deadline`, at least 0 (for poll()).
int millis_until(Deadline deadline);
// Waits until `fd` is ready for `events`; throws TimeoutError at `deadline`.
void wait_ready(int fd, short events, Deadline deadline, const char* what);

// One client socket plus the bytes received on it and not yet consumed.
class Connection {
public:
    // Connects to `host` (an IPv4 or IPv6 literal; "[::1]" is accepted) on
    // `port`. Throws when the connection fails or takes over kGuardTimeout.
    static Connection open(std::uint16_t port, std::string host = "127.0.0.1");
    // Connects to 127.0.0.1:`port` with SO_RCVBUF set to `bytes` before
    // connect(), so the window the server sees is small from the first byte.
    static Connection open_with_receive_buffer(std::uint16_t port, int bytes);

    Connection(Connection&& other) noexcept;
    Connection& operator=(Connection&& other) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection();

    // Writes all of `bytes`. Throws if the peer has gone or on timeout.
    void send_all(std::string_view bytes);
    // Writes as much of `bytes` as the socket takes now, without waiting,
    // and returns how many bytes that was (0 when its buffer is full).
    // Throws if the peer has gone.
    std::size_t send_available(std::string_view bytes);
    // Writes `bytes` with one send() per byte and Nagle's algorithm off, so
    // the server sees the request arrive in many small pieces.
    void send_byte_by_byte(std::string_view bytes);
    // Writes `bytes` in pieces of at most `piece` bytes, for peers that may
    // hang up on purpose. True when all were written; false when the server
    // hung up first (EPIPE, ECONNRESET). Throws TimeoutError if the server
    // stops reading for longer than the guard.
    bool send_tolerant(std::string_view bytes, std::size_t piece = 64 * 1024);

    // Waits for bytes and appends them to input(). Returns false when the
    // peer has closed (FIN or RST) and nothing more will come.
    bool receive(Deadline deadline);
    // Receives until `done(input())` holds (true) or the peer closes (false).
    bool receive_until(const std::function<bool(const std::string&)>& done, Deadline deadline);
    // Receives until input() contains `needle`; false if the peer closed first.
    bool receive_until_contains(std::string_view needle, Deadline deadline = deadline_in(kGuardTimeout));
    // True when something (bytes or the close) is readable right now.
    bool readable_now() const;
    // Receives until the peer closes. True when it did; false when the
    // deadline passed with the connection still open. Never throws a timeout.
    bool wait_for_close(Deadline deadline = deadline_in(kGuardTimeout));

    // Bytes received and not yet consumed by a reader.
    std::string& input() { return input_; }
    bool peer_closed() const { return peer_closed_; }
    bool was_reset() const { return was_reset_; }

    // shutdown(SHUT_WR): the server reads end-of-stream, we can still read.
    void shutdown_write();
    // Orderly close: the server reads end-of-stream.
    void close();
    // Abortive close (SO_LINGER with timeout 0): the server gets a RST.
    void reset();

private:
    explicit Connection(int fd) : fd_(fd) {}
    static Connection connect_to(std::uint16_t port, std::string host, std::optional<int> receive_buffer);
    int fd_ = -1;
    std::string input_;
    bool peer_closed_ = false;
    bool was_reset_ = false;
};

// Header names compare case-insensitively, as HTTP requires.
struct CaseInsensitiveLess {
    bool operator()(const std::string& a, const std::string& b) const;
};
using HeaderMap = std::multimap<std::string, std::string, CaseInsensitiveLess>;

struct Response {
    std::string version;  // "HTTP/1.1"
    int status = 0;
    std::string reason;
    HeaderMap headers;
    std::string body;

    bool has(const std::string& name) const { return headers.count(name) > 0; }
    // The first value of `name`, or "" when absent.
    std::string header(const std::string& name) const;
};

// Parses a response head: the status line and header lines, without the
// blank line. Throws std::runtime_error when either is malformed.
Response parse_head(std::string_view head);

// Parses one response from the front of conn.input(), receiving more as
// needed, and consumes exactly its bytes (later pipelined responses stay).
// The body is delimited by Content-Length or chunked encoding; a HEAD
// answer (`head_request`), 1xx, 204 and 304 have none; an event stream's
// body is left unread in conn.input(); otherwise the body runs to the close.
// Throws std::runtime_error on a malformed response or a close mid-response.
Response read_response(Connection& conn, bool head_request = false,
                       Deadline deadline = deadline_in(kGuardTimeout));

// "METHOD target HTTP/1.1\r\nHost: localhost\r\n<extra_headers>\r\n";
// each extra header line must end in "\r\n".
std::string make_request(std::string_view method, std::string_view target,
                         std::string_view extra_headers = "");

// Sends `request` whole on `conn` and reads one response (a HEAD request is
// recognised from its first word).
Response exchange(Connection& conn, std::string_view request);

// Opens a connection, exchanges one request and returns the response.
Response fetch(std::uint16_t port, std::string_view request);

// True when a socket can be bound to the IPv6 loopback address ::1.
bool loopback_ipv6_available();

}  // namespace sse::test
