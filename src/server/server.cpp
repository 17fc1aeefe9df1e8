#include "server/server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "loop/log.h"

namespace sse {

namespace {

StreamPolicy stream_policy(const Options& options) {
    StreamPolicy policy;
    policy.retry_ms = options.retry_ms;
    policy.heartbeat_ms = options.heartbeat_ms;
    policy.max_age_s = options.max_stream_age_s;
    policy.max_buffer = options.max_buffer;
    policy.stall_ms = options.idle_timeout_ms;
    return policy;
}

}  // namespace

Server::Server(EventLoop& loop, const Options& options)
    : loop_(loop),
      options_(options),
      streams_(loop, stream_policy(options_), stats_),
      context_{loop, options_, router_, streams_, stats_, *this} {
    loop_.set_before_sleep([this] { return before_sleep(); });
}

Server::~Server() {
    for (auto& connection : connections_) {
        if (connection) loop_.unwatch(connection->fd());
    }
    stop_accepting();
}

bool Server::start(std::string& error) {
    ListenOptions listen_options;
    listen_options.bind = options_.bind;
    listen_options.port = options_.port;
    listen_options.reuse_port = options_.reuse_port;
    listener_ = listen_tcp(listen_options, bound_, error);
    if (!listener_) return false;
    max_connections_ = options_.max_conns;
    if (max_connections_ == 0) {
        rlimit limit{};
        ::getrlimit(RLIMIT_NOFILE, &limit);
        max_connections_ = limit.rlim_cur > kReservedFds * 2 ? limit.rlim_cur - kReservedFds : kReservedFds;
    }
    // One descriptor held in reserve: when accept() fails for lack of
    // descriptors, closing it lets us accept and close the waiting peer
    // instead of spinning on a listener that stays readable.
    spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!loop_.watch(listener_.get(), EPOLLIN, [this](std::uint32_t) { on_accept(); })) {
        error = std::string("epoll_ctl(listener): ") + std::strerror(errno);
        return false;
    }
    return true;
}

void Server::stop_accepting() {
    if (!listener_) return;
    loop_.unwatch(listener_.get());
    listener_.reset();
}

void Server::on_accept() {
    for (int i = 0; i < kMaxAcceptsPerEvent && listener_; ++i) {
        SocketAddress peer;
        int fd = accept_connection(listener_.get(), peer);
        if (fd < 0) {
            int error = errno;
            if (error == EAGAIN || error == EWOULDBLOCK) return;
            ++stats_.accept_errors;
            Log::error("accept", std::string("accept: ") + std::strerror(error), loop_.now());
            if ((error == EMFILE || error == ENFILE) && spare_fd_) {
                spare_fd_.reset();
                UniqueFd shed(accept_connection(listener_.get(), peer));
                shed.reset();
                spare_fd_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
                continue;
            }
            return;  // ECONNABORTED and the like: try again on the next event
        }
        ++stats_.connections_accepted;
        if (open_connections_ >= max_connections_ + kCapacityHeadroom) {
            shed(fd);
            continue;
        }
        bool over_limit = open_connections_ >= max_connections_;
        if (add_connection(fd, peer, over_limit) && over_limit) log_at_capacity();
    }
}

bool Server::add_connection(int fd, const SocketAddress& peer, bool over_limit) {
    if (static_cast<std::size_t>(fd) >= connections_.size()) connections_.resize(fd + 1);
    connections_[fd] = std::make_unique<Connection>(context_, UniqueFd(fd), peer, next_serial_++, over_limit);
    if (!connections_[fd]->watch()) {
        connections_[fd].reset();  // closes the fd
        return false;
    }
    ++open_connections_;
    return true;
}

Connection* Server::find(Connection::Handle handle) const {
    if (handle.fd < 0 || static_cast<std::size_t>(handle.fd) >= connections_.size()) return nullptr;
    Connection* connection = connections_[handle.fd].get();
    if (!connection || connection->serial() != handle.serial || connection->is_closed()) return nullptr;
    return connection;
}

void Server::adopt(UniqueFd fd, const SocketAddress& peer) {
    add_connection(fd.release(), peer, false);
}

void Server::shed(int fd) {
    ::close(fd);
    ++stats_.refused_at_limit;
    log_at_capacity();
}

void Server::log_at_capacity() {
    Log::error("max-conns", "connection limit reached (--max-conns " + std::to_string(max_connections_) +
                                "): refusing new requests; streams are told to retry later", loop_.now());
}

void Server::shutdown(Millis deadline_ms) {
    if (context_.shutting_down) return;
    context_.shutting_down = true;
    stop_accepting();
    for (auto& connection : connections_) {
        if (connection && !connection->is_closed()) connection->shutdown();
    }
    loop_.add_timer(deadline_ms, [this] { loop_.stop(); });
}

void Server::mark_pending(Connection& connection) {
    (connection.is_stream() ? pending_streams_ : pending_answers_).push_back(connection.fd());
}

void Server::close_later(Connection& connection) {
    closing_.push_back(connection.fd());
}

bool Server::before_sleep() {
    flush_pending();
    reap_closed();
    if (context_.shutting_down && open_connections_ == 0) loop_.stop();
    return !pending_answers_.empty() || !pending_streams_.empty();
}

void Server::flush_pending() {
    flush_list(pending_answers_, pending_answers_.size());
    flush_list(pending_streams_, kMaxFlushesPerPass);
}

std::size_t Server::flush_list(std::vector<int>& list, std::size_t limit) {
    std::size_t count = std::min(list.size(), limit);
    for (std::size_t i = 0; i < count; ++i) {
        Connection* connection = connections_[list[i]].get();
        // The slot may hold a newer connection on a reused fd, or a closed
        // one: its pending flag tells whether this entry is its own.
        if (connection && connection->pending()) connection->flush_pending();
    }
    list.erase(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(count));
    return count;
}

void Server::reap_closed() {
    // A close may trigger another (an on_close handler), so loop until quiet.
    while (!closing_.empty()) {
        std::vector<int> batch;
        batch.swap(closing_);
        for (int fd : batch) {
            std::unique_ptr<Connection> connection = std::move(connections_[fd]);
            if (!connection) continue;
            // The Connection owns the only descriptor of its socket and
            // closes it just below, which takes it out of epoll.
            loop_.unwatch_closing(fd);
            connection->reaped();
            --open_connections_;
        }  // the Connection (and its fd) is destroyed here
    }
}

}  // namespace sse
