// Sockets: the URL's target, loopback source addresses, non-blocking
// connect, and a thin level-triggered epoll.
#pragma once

#include <netinet/in.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base.h"

namespace sse_load {

struct Target {
    sockaddr_in address{};
    std::string host;          // for the Host header
    std::string path_pattern;  // may hold {topic} / {topics}
};

// Parses http://IPV4[:PORT]/PATH (port 80 if none); dies on anything else.
Target parse_url(std::string_view url);

// The kernel gives each (source address, destination) pair about 28,000
// ephemeral ports (net.ipv4.ip_local_port_range). Every 127.x.y.z address is
// local on Linux, so binding connections round-robin to 127.0.0.1, .2, ...
// multiplies that limit without any configuration. `first` (numeric, within
// 127.0.0.0/8, or the program dies) is where the run of addresses starts,
// so that several processes can each use addresses of their own.
class SourceAddresses {
public:
    SourceAddresses(std::size_t count, const std::string& first);
    const sockaddr_in* next() {
        if (addresses_.empty()) return nullptr;
        return &addresses_[next_++ % addresses_.size()];
    }

private:
    std::vector<sockaddr_in> addresses_;
    std::size_t next_ = 0;
};

// Starts a non-blocking connect. Returns the fd (connected or in progress), or
// -1 with `error` set. The caller learns the outcome from EPOLLOUT + SO_ERROR.
int start_connect(const Target& target, const sockaddr_in* source, int& error);

// The pending error of a socket (SO_ERROR): 0 once a connect succeeded.
int socket_error(int fd);

// A thin epoll: level-triggered, each fd carries one 64-bit token (an index).
class Poller {
public:
    Poller() : fd_(epoll_create1(EPOLL_CLOEXEC)) {
        if (fd_ < 0) die(std::string("epoll_create1: ") + std::strerror(errno));
    }
    ~Poller() { close(fd_); }
    Poller(const Poller&) = delete;
    Poller& operator=(const Poller&) = delete;

    void add(int fd, std::uint32_t events, std::uint64_t token) { control(EPOLL_CTL_ADD, fd, events, token); }
    void modify(int fd, std::uint32_t events, std::uint64_t token) { control(EPOLL_CTL_MOD, fd, events, token); }

    // Waits at most `timeout_ms`; returns the ready events (empty on EINTR).
    std::span<const epoll_event> wait(int timeout_ms) {
        int n = epoll_wait(fd_, ready_.data(), static_cast<int>(ready_.size()), timeout_ms);
        if (n < 0 && errno != EINTR) die(std::string("epoll_wait: ") + std::strerror(errno));
        return {ready_.data(), static_cast<std::size_t>(std::max(n, 0))};
    }

private:
    void control(int op, int fd, std::uint32_t events, std::uint64_t token) {
        epoll_event event{};
        event.events = events;
        event.data.u64 = token;
        if (epoll_ctl(fd_, op, fd, &event) != 0) die(std::string("epoll_ctl: ") + std::strerror(errno));
    }

    int fd_;
    std::vector<epoll_event> ready_ = std::vector<epoll_event>(1024);
};

// One read buffer for every socket: the loop is single-threaded and each read
// is consumed before the next, so per-connection buffers would only cost memory.
extern char g_read_buffer[256 * 1024];

}  // namespace sse_load
