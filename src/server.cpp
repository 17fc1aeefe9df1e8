#include "server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "event_stream.h"
#include "log.h"

namespace sse {

Server::Server(EventLoop& loop, const Options& options)
    : loop_(loop),
      options_(options),
      heartbeat_(ChunkRef::make(encode_comment("heartbeat"))),
      rng_(std::random_device{}()) {
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
        if (add_connection(fd, peer) && open_connections_ > max_connections_) {
            connections_[fd]->over_limit_ = true;
            log_at_capacity();
        }
    }
}

bool Server::add_connection(int fd, const SocketAddress& peer) {
    if (static_cast<std::size_t>(fd) >= connections_.size()) connections_.resize(fd + 1);
    connections_[fd] = std::make_unique<Connection>(*this, UniqueFd(fd), peer);
    Connection* connection = connections_[fd].get();
    connection->serial_ = next_serial_++;
    if (!loop_.watch(fd, EPOLLIN | EPOLLRDHUP,
                     [connection](std::uint32_t events) { connection->on_events(events); })) {
        connections_[fd].reset();  // closes the fd
        return false;
    }
    connection->interest_ = EPOLLIN | EPOLLRDHUP;
    ++open_connections_;
    return true;
}

Connection* Server::find(Connection::Handle handle) const {
    if (handle.fd < 0 || static_cast<std::size_t>(handle.fd) >= connections_.size()) return nullptr;
    Connection* connection = connections_[handle.fd].get();
    if (!connection || connection->serial_ != handle.serial || connection->is_closed()) return nullptr;
    return connection;
}

void Server::adopt(UniqueFd fd, const SocketAddress& peer) {
    add_connection(fd.release(), peer);
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
    if (shutting_down_) return;
    shutting_down_ = true;
    stop_accepting();
    for (auto& slot : connections_) {
        Connection* connection = slot.get();
        if (!connection || connection->is_closed()) continue;
        if (connection->is_stream()) {
            // Clients come back spread over the retry window, to whichever
            // instance is up by then, and resume with Last-Event-ID.
            connection->send(encode_retry(jittered_retry_ms()));
            connection->end_stream();
        } else if (connection->phase() == Connection::Phase::Request && connection->input_.empty() &&
                   connection->output_.empty()) {
            close_later(*connection);
        }
    }
    loop_.add_timer(deadline_ms, [this] { loop_.stop(); });
}

void Server::mark_pending(Connection& connection) {
    if (connection.in_pending_ || connection.is_closed()) return;
    connection.in_pending_ = true;
    (connection.is_stream() ? pending_streams_ : pending_answers_).push_back(connection.fd());
}

void Server::close_later(Connection& connection) {
    if (connection.is_closed()) return;
    connection.phase_ = Connection::Phase::Closed;
    loop_.cancel_timer(connection.timer_);
    loop_.cancel_timer(connection.age_timer_);
    loop_.cancel_timer(connection.stall_timer_);
    streams_.remove(connection.activity_);
    closing_.push_back(connection.fd());
}

bool Server::before_sleep() {
    flush_pending();
    reap_closed();
    if (shutting_down_ && open_connections_ == 0) loop_.stop();
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
        // one: the in_pending_ flag tells whether this entry is its own.
        if (!connection || !connection->in_pending_) continue;
        connection->in_pending_ = false;
        if (!connection->is_closed()) connection->flush();
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
            loop_.unwatch(fd);
            if (connection->on_close_) connection->on_close_();
            if (connection->streamed_ && Log::access_enabled()) {
                Log::access(connection->peer().to_string(), connection->log_method(), connection->log_target(), 200,
                            connection->bytes_sent(), loop_.now() - connection->request_started());
            }
            --open_connections_;
        }  // the Connection (and its fd) is destroyed here
    }
}

void Server::count_response(int status) {
    int status_class = status / 100;
    if (status_class >= 1 && status_class <= 5) ++stats_.responses_by_class[status_class];
}

void Server::count_timeout(Connection::Deadline deadline) {
    switch (deadline) {
        case Connection::Deadline::Header: ++stats_.timeouts_header; break;
        case Connection::Deadline::Body: ++stats_.timeouts_body; break;
        case Connection::Deadline::Idle: ++stats_.timeouts_idle; break;
        case Connection::Deadline::Drain: ++stats_.timeouts_drain; break;
        case Connection::Deadline::Linger:
        case Connection::Deadline::None: break;
    }
}

std::uint32_t Server::jittered_retry_ms() {
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    return static_cast<std::uint32_t>(options_.retry_ms * jitter(rng_));
}

std::uint32_t Server::capacity_retry_ms() {
    std::uniform_real_distribution<double> spread(1.0, kCapacityRetrySpread);
    return static_cast<std::uint32_t>(options_.retry_ms * spread(rng_));
}

std::uint32_t Server::retry_at_least_ms(std::uint32_t base_ms) {
    std::uniform_real_distribution<double> jitter(1.0, 1.2);
    return static_cast<std::uint32_t>(std::min<double>(base_ms * jitter(rng_), UINT32_MAX));
}

void Server::stream_started(Connection& connection) {
    stream_sent(connection);
    if (options_.max_stream_age_s > 0) {
        Millis age = static_cast<Millis>(options_.max_stream_age_s) * 1000;
        connection.age_timer_ = loop_.add_timer(age, [this, &connection] {
            // End with a fresh retry hint: the client comes back after it
            // and resumes from its Last-Event-ID.
            ++stats_.streams_aged_out;
            connection.send(encode_retry(jittered_retry_ms()));
            connection.end_stream();
        });
    }
}

void Server::stream_sent(Connection& connection) {
    // Moving a node to the tail touches three connections' memory (it and
    // its two neighbours): on a fan-out to thousands of streams that is the
    // costliest part of a delivery. So a busy stream moves at most once per
    // heartbeat/kActivityGranularity; its heartbeat may then come that much
    // early, which costs a few bytes and no correctness.
    ActivityNode& node = connection.activity_;
    Millis now = loop_.now();
    if (node.linked && now - node.last_active < options_.heartbeat_ms / kActivityGranularity) return;
    streams_.touch(node, now);
    if (!heartbeat_timer_) arm_heartbeat();
}

void Server::arm_heartbeat() {
    ActivityNode* quietest = streams_.oldest();
    if (!quietest) return;
    Millis due = quietest->last_active + options_.heartbeat_ms;
    heartbeat_timer_ = loop_.add_timer(std::max<Millis>(0, due - loop_.now()), [this] {
        // The id stays set while the heartbeats go out, so the sends (which
        // call stream_sent) do not arm a second timer; one timer at a time.
        send_heartbeats();
        heartbeat_timer_ = TimerId{};
        arm_heartbeat();
    });
}

void Server::send_heartbeats() {
    // The list moves each due stream to its tail before the visit, so every
    // stream is due again one interval later, however many there are.
    streams_.visit_idle(loop_.now(), options_.heartbeat_ms, [this](ActivityNode& node) {
        ++stats_.heartbeats;
        static_cast<Connection*>(node.owner)->send(heartbeat_);
    });
}

}  // namespace sse
