// Sockets and file descriptors: the few system calls that create them.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <initializer_list>
#include <string>

namespace sse {

// Owns one file descriptor and closes it once (RAII).
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept;
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release() { int fd = fd_; fd_ = -1; return fd; }
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

// A peer or local address, IPv4 or IPv6. Every connection keeps one, so it
// is a 28-byte union rather than the 128-byte sockaddr_storage.
struct SocketAddress {
    union {
        sockaddr any;
        sockaddr_in v4;
        sockaddr_in6 v6;
    } storage{};
    socklen_t length = 0;

    int family() const { return storage.any.sa_family; }
    // "127.0.0.1:8000" or "[::1]:8000".
    std::string to_string() const;
    std::uint16_t port() const;
    // True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.x).
    bool is_loopback() const;
};

// Parses a numeric IPv4 or IPv6 address (no names) with a port.
bool parse_address(const std::string& host, std::uint16_t port, SocketAddress& out);

struct ListenOptions {
    std::string bind = "::";    // "::" also accepts IPv4 (dual stack)
    std::uint16_t port = 8000;  // 0: the kernel picks a free port
    int backlog = 4096;
    bool reuse_port = false;    // SO_REUSEPORT, for several processes on one port
};

// Creates a non-blocking listening socket with TCP_NODELAY, which the
// sockets it accepts inherit. On failure returns an empty fd and sets
// `error` to a one-line reason with the errno text.
UniqueFd listen_tcp(const ListenOptions& options, SocketAddress& bound, std::string& error);

// Accepts one connection as a non-blocking, close-on-exec socket with
// TCP_NODELAY (inherited from a listener made by listen_tcp). Returns -1
// with errno set (EAGAIN when none is waiting).
int accept_connection(int listen_fd, SocketAddress& peer);

// A signalfd that receives `signals`, which are blocked for normal
// delivery; SIGPIPE is ignored too. Empty fd and `error` on failure.
UniqueFd open_signal_fd(std::initializer_list<int> signals, std::string& error);

}  // namespace sse
