// Sockets on loopback: what listen_tcp and accept_connection promise.
#include <doctest/doctest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "loop/socket.h"

namespace {

int option(int fd, int level, int name) {
    int value = -1;
    socklen_t length = sizeof value;
    REQUIRE(::getsockopt(fd, level, name, &value, &length) == 0);
    return value;
}

// A blocking client connected to `bound`; the caller closes it.
int connect_to(const sse::SocketAddress& bound) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    REQUIRE(::connect(fd, &bound.storage.any, bound.length) == 0);
    return fd;
}

}  // namespace

TEST_CASE("an accepted socket has TCP_NODELAY, inherited from its listener") {
    sse::ListenOptions options;
    options.bind = "127.0.0.1";
    options.port = 0;
    sse::SocketAddress bound;
    std::string error;
    sse::UniqueFd listener = sse::listen_tcp(options, bound, error);
    REQUIRE_MESSAGE(listener, error);
    CHECK(option(listener.get(), IPPROTO_TCP, TCP_NODELAY) != 0);

    int client = connect_to(bound);
    sse::SocketAddress peer;
    int accepted = -1;
    for (int i = 0; i < 1000 && accepted < 0; ++i) {  // non-blocking listener
        accepted = sse::accept_connection(listener.get(), peer);
        if (accepted < 0) REQUIRE(errno == EAGAIN);
        if (accepted < 0) ::usleep(1000);
    }
    REQUIRE(accepted >= 0);
    sse::UniqueFd owned(accepted);
    CHECK(option(accepted, IPPROTO_TCP, TCP_NODELAY) != 0);
    CHECK(peer.is_loopback());
    ::close(client);
}

TEST_CASE("closing the only descriptor of a socket takes it out of epoll") {
    // EventLoop::unwatch_closing relies on this to skip EPOLL_CTL_DEL.
    int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    REQUIRE(epoll_fd >= 0);
    int pair[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = pair[0];
    REQUIRE(::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, pair[0], &event) == 0);
    REQUIRE(::write(pair[1], "x", 1) == 1);
    epoll_event ready[4];
    CHECK(::epoll_wait(epoll_fd, ready, 4, 0) == 1);
    ::close(pair[0]);
    CHECK(::epoll_wait(epoll_fd, ready, 4, 0) == 0);  // no event from the closed socket
    int again[2];  // the next socket may reuse the number; it is not watched
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, again) == 0);
    REQUIRE(::write(again[1], "y", 1) == 1);
    CHECK(::epoll_wait(epoll_fd, ready, 4, 0) == 0);
    ::close(again[0]);
    ::close(again[1]);
    ::close(pair[1]);
    ::close(epoll_fd);
}
