#include "redis/redis_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "loop/log.h"

namespace sse {

RedisClient::RedisClient(EventLoop& loop, std::string host, std::uint16_t port, std::string name)
    : loop_(loop), host_(std::move(host)), port_(port), name_(std::move(name)) {}

RedisClient::~RedisClient() {
    loop_.cancel_timer(retry_timer_);
    if (fd_) loop_.unwatch(fd_.get());
}

void RedisClient::start() {
    connect();
}

void RedisClient::connect() {
    retry_timer_ = TimerId{};
    SocketAddress address;
    if (!parse_address(host_, port_, address)) {
        Log::error(name_, name_ + ": not a numeric address: " + host_, loop_.now());
        return;
    }
    fd_.reset(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_) {
        fail(std::string("socket: ") + std::strerror(errno));
        return;
    }
    int on = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    state_ = State::Connecting;
    if (::connect(fd_.get(), &address.storage.any, address.length) != 0 && errno != EINPROGRESS) {
        fail(std::string("connect: ") + std::strerror(errno));
        return;
    }
    // Writability tells us the connect finished (or failed: see SO_ERROR).
    loop_.watch(fd_.get(), EPOLLOUT, [this](std::uint32_t events) { on_events(events); });
}

void RedisClient::on_events(std::uint32_t events) {
    if (state_ == State::Connecting) {
        on_connect_done();
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_replies();
    if (state_ == State::Connected && (events & EPOLLOUT)) flush();
}

void RedisClient::on_connect_done() {
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
        fail(std::string("connect: ") + std::strerror(error));
        return;
    }
    state_ = State::Connected;
    backoff_ = kRedisMinBackoffMs;
    if (ever_connected_) {
        ++reconnects_;
        Log::info(name_ + ": reconnected to " + host_ + ":" + std::to_string(port_));
    }
    ever_connected_ = true;
    update_interest();
    if (on_connected_) on_connected_();
}

void RedisClient::command(const std::vector<std::string_view>& words, ReplyHandler handler) {
    if (state_ != State::Connected) {
        RespValue error;
        error.type = RespValue::Type::Error;
        error.text = "ERR not connected to redis";
        handler(error);
        return;
    }
    output_ += encode_command(words);
    waiting_.push_back(std::move(handler));
    flush();
}

void RedisClient::flush() {
    while (!output_.empty()) {
        ssize_t n = ::send(fd_.get(), output_.data(), output_.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            fail(std::string("send: ") + std::strerror(errno));
            return;
        }
        output_.erase(0, static_cast<std::size_t>(n));
    }
    update_interest();
}

void RedisClient::read_replies() {
    char buffer[64 * 1024];
    ssize_t n;
    do {
        n = ::read(fd_.get(), buffer, sizeof buffer);
    } while (n < 0 && errno == EINTR);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        fail(n == 0 ? "connection closed by redis" : std::string("read: ") + std::strerror(errno));
        return;
    }
    if (n < 0) return;
    input_.append(buffer, static_cast<std::size_t>(n));
    std::size_t used = 0;
    while (used < input_.size()) {
        std::size_t length = 0;
        ScanResult scanned = scan_reply(std::string_view(input_).substr(used), length);
        if (scanned == ScanResult::Incomplete) break;
        if (scanned == ScanResult::Error || waiting_.empty()) {
            fail("protocol error in a reply");
            return;
        }
        RespValue reply = parse_reply(std::string_view(input_).substr(used, length));
        used += length;
        ReplyHandler handler = std::move(waiting_.front());
        waiting_.pop_front();
        handler(reply);
        if (state_ != State::Connected) return;  // the handler saw a failure
    }
    input_.erase(0, used);
    if (input_.size() > kRedisMaxReplyBytes) fail("reply too large");
}

void RedisClient::fail(const std::string& why) {
    bool was_connected = state_ == State::Connected;
    Log::error(name_, name_ + " (" + host_ + ":" + std::to_string(port_) + "): " + why, loop_.now());
    if (fd_) {
        loop_.unwatch(fd_.get());
        fd_.reset();
    }
    state_ = State::Idle;
    input_.clear();
    output_.clear();
    // Every caller waiting for a reply learns now; none is left hanging.
    std::deque<ReplyHandler> orphans;
    orphans.swap(waiting_);
    RespValue lost;
    lost.type = RespValue::Type::Error;
    lost.text = "ERR connection to redis lost";
    for (ReplyHandler& handler : orphans) handler(lost);
    if (was_connected && on_disconnected_) on_disconnected_();
    retry_timer_ = loop_.add_timer(backoff_, [this] { connect(); });
    backoff_ = std::min(backoff_ * 2, kRedisMaxBackoffMs);
}

void RedisClient::update_interest() {
    if (!fd_ || state_ != State::Connected) return;
    loop_.modify(fd_.get(), EPOLLIN | (output_.empty() ? 0u : static_cast<std::uint32_t>(EPOLLOUT)));
}

}  // namespace sse
