#include "fake_redis.h"

#include <cerrno>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sse::test {

namespace {

// Finds the CRLF-ended line at `at` in `in`; false while it is incomplete.
bool next_line(std::string_view in, std::size_t& at, std::string_view& line) {
    std::size_t eol = in.find("\r\n", at);
    if (eol == std::string_view::npos) return false;
    line = in.substr(at, eol - at);
    at = eol + 2;
    return true;
}

// The number after the type byte of a RESP line ("*3", "$4").
std::size_t resp_count(std::string_view line, char type) {
    if (line.size() < 2 || line[0] != type) {
        throw std::runtime_error("fake redis: unexpected RESP line: " + std::string(line));
    }
    return std::stoul(std::string(line.substr(1)));
}

}  // namespace

FakeRedis::FakeRedis() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw errno_error("fake redis: socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 || ::listen(listen_fd_, 8) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        int error = errno;
        ::close(listen_fd_);
        errno = error;
        throw errno_error("fake redis: listen");
    }
    port_ = ntohs(address.sin_port);
}

FakeRedis::~FakeRedis() {
    for (const Link& link : links_) ::close(link.fd);
    ::close(listen_fd_);
}

bool FakeRedis::take_command(Link& link, std::vector<std::string>& words) {
    std::string_view in = link.input;
    std::size_t at = 0;
    std::string_view line;
    if (!next_line(in, at, line)) return false;
    std::size_t count = resp_count(line, '*');
    std::vector<std::string> parsed;
    for (std::size_t i = 0; i < count; ++i) {
        if (!next_line(in, at, line)) return false;
        std::size_t length = resp_count(line, '$');
        if (in.size() - at < length + 2) return false;
        parsed.emplace_back(in.substr(at, length));
        at += length + 2;
    }
    link.input.erase(0, at);
    words = std::move(parsed);
    return true;
}

FakeRedis::Command FakeRedis::next_command(Deadline deadline) {
    for (;;) {
        for (std::size_t i = 0; i < links_.size(); ++i) {
            Command command{i, {}};
            if (take_command(links_[i], command.words)) return command;
        }
        std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
        for (const Link& link : links_) fds.push_back({link.fd, POLLIN, 0});
        int ready = ::poll(fds.data(), fds.size(), millis_until(deadline));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) throw errno_error("fake redis: poll");
        if (ready == 0) throw TimeoutError("timed out waiting for a command to the fake redis");
        for (std::size_t i = 1; i < fds.size(); ++i) {
            if (fds[i].revents == 0) continue;
            char chunk[16 * 1024];
            ssize_t n = ::recv(fds[i].fd, chunk, sizeof chunk, 0);
            if (n == 0) throw std::runtime_error("fake redis: the server closed a link");
            if (n < 0 && errno != EINTR) throw errno_error("fake redis: recv");
            if (n > 0) links_[i - 1].input.append(chunk, static_cast<std::size_t>(n));
        }
        if (fds[0].revents & POLLIN) {
            int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) throw errno_error("fake redis: accept");
            links_.push_back(Link{fd, {}});
        }
    }
}

void FakeRedis::reply(const Command& command, std::string_view resp) {
    int fd = links_.at(command.link).fd;
    while (!resp.empty()) {
        ssize_t n = ::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw errno_error("fake redis: send");
        resp.remove_prefix(static_cast<std::size_t>(n));
    }
}

void FakeRedis::bring_up(std::uint16_t server_port) {
    Command load = next_command();
    if (load.words.empty() || load.words[0] != "XREVRANGE") {
        throw std::runtime_error("fake redis: the first command was not XREVRANGE");
    }
    reply(load, "*0\r\n");
    Command read = next_command();
    if (read.words.empty() || read.words[0] != "XREAD") {
        throw std::runtime_error("fake redis: history loaded, but no XREAD came next");
    }
    // The command link may finish connecting a loop turn after the reader:
    // wait for the server's own word that both links are up.
    const Deadline deadline = deadline_in(kGuardTimeout);
    while (fetch(server_port, make_request("GET", "/healthz")).status != 200) {
        if (Clock::now() > deadline) throw TimeoutError("the server never saw its redis links up");
    }
}

}  // namespace sse::test
