#include "loop/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sse {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
}

void UniqueFd::reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

std::string SocketAddress::to_string() const {
    char text[INET6_ADDRSTRLEN] = "?";
    if (family() == AF_INET) {
        const sockaddr_in* v4 = &storage.v4;
        ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        return std::string(text) + ":" + std::to_string(port());
    }
    if (family() == AF_INET6) {
        const sockaddr_in6* v6 = &storage.v6;
        ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        return "[" + std::string(text) + "]:" + std::to_string(port());
    }
    return "unknown";
}

std::uint16_t SocketAddress::port() const {
    if (family() == AF_INET)
        return ntohs(storage.v4.sin_port);
    if (family() == AF_INET6)
        return ntohs(storage.v6.sin6_port);
    return 0;
}

bool SocketAddress::is_loopback() const {
    if (family() == AF_INET) {
        const sockaddr_in* v4 = &storage.v4;
        return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    }
    if (family() == AF_INET6) {
        const in6_addr& a = storage.v6.sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(&a)) return true;
        return IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127;
    }
    return false;
}

bool parse_address(const std::string& host, std::uint16_t port, SocketAddress& out) {
    out = SocketAddress{};
    sockaddr_in* v4 = &out.storage.v4;
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        out.length = sizeof(sockaddr_in);
        return true;
    }
    out = SocketAddress{};
    std::string bare = host;
    if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
    sockaddr_in6* v6 = &out.storage.v6;
    if (::inet_pton(AF_INET6, bare.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        out.length = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

namespace {

std::string errno_text(const char* what) {
    return std::string(what) + ": " + std::strerror(errno);
}

}  // namespace

UniqueFd listen_tcp(const ListenOptions& options, SocketAddress& bound, std::string& error) {
    SocketAddress address;
    if (!parse_address(options.bind, options.port, address)) {
        error = "not a numeric IPv4 or IPv6 address: " + options.bind;
        return UniqueFd{};
    }
    int family = address.family();
    UniqueFd fd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        error = errno_text("socket");
        return UniqueFd{};
    }
    int on = 1;
    int off = 0;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (options.reuse_port &&
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
        error = errno_text("setsockopt(SO_REUSEPORT)");
        return UniqueFd{};
    }
    if (family == AF_INET6) {
        // "::" means every address, IPv4 included; say so explicitly since
        // the system default (net.ipv6.bindv6only) may differ.
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    }
    if (::bind(fd.get(), &address.storage.any, address.length) != 0) {
        error = errno_text(("bind " + address.to_string()).c_str());
        return UniqueFd{};
    }
    // Events are small and must not wait for Nagle's algorithm. Set once
    // here: on Linux an accepted socket inherits TCP_NODELAY from its
    // listener, which spares one setsockopt() per connection.
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    if (::listen(fd.get(), options.backlog) != 0) {
        error = errno_text("listen");
        return UniqueFd{};
    }
    bound = SocketAddress{};
    bound.length = sizeof bound.storage;
    ::getsockname(fd.get(), &bound.storage.any, &bound.length);
    return fd;
}

int accept_connection(int listen_fd, SocketAddress& peer) {
    peer = SocketAddress{};
    peer.length = sizeof peer.storage;
    int fd;
    do {
        fd = ::accept4(listen_fd, &peer.storage.any, &peer.length,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    return fd;  // TCP_NODELAY comes from the listener (see listen_tcp)
}

UniqueFd open_signal_fd(std::initializer_list<int> signals, std::string& error) {
    // A write to a vanished peer must fail with EPIPE, not kill the process.
    ::signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    for (int s : signals) sigaddset(&set, s);
    if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) {
        error = errno_text("sigprocmask");
        return UniqueFd{};
    }
    UniqueFd fd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!fd) error = errno_text("signalfd");
    return fd;
}

}  // namespace sse
