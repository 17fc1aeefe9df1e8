#include "client.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <utility>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sse::test {

namespace {

// `bytes` with CR and LF made visible, cut short, for failure messages.
std::string printable(std::string_view bytes) {
    std::string out;
    for (char c : bytes.substr(0, 300)) {
        if (c == '\r') out += "\\r";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    if (bytes.size() > 300) out += "...";
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool icontains(std::string_view haystack, std::string_view needle) {
    auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
    auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                          [&](char a, char b) { return lower(a) == lower(b); });
    return it != haystack.end();
}

// Receives until conn.input() holds at least `n` bytes.
void receive_at_least(Connection& conn, std::size_t n, Deadline deadline) {
    while (conn.input().size() < n) {
        if (!conn.receive(deadline)) {
            throw std::runtime_error("connection closed mid-response; still unread: " +
                                     printable(conn.input()));
        }
    }
}

// Takes one CRLF-terminated line off the front of conn.input().
std::string take_line(Connection& conn, Deadline deadline) {
    std::size_t eol;
    while ((eol = conn.input().find("\r\n")) == std::string::npos) {
        receive_at_least(conn, conn.input().size() + 1, deadline);
    }
    std::string line = conn.input().substr(0, eol);
    conn.input().erase(0, eol + 2);
    return line;
}

std::string read_chunked_body(Connection& conn, Deadline deadline) {
    std::string body;
    for (;;) {
        std::string size_line = take_line(conn, deadline);
        std::size_t size = std::stoul(size_line.substr(0, size_line.find(';')), nullptr, 16);
        if (size == 0) {
            while (!take_line(conn, deadline).empty()) {}  // trailer fields
            return body;
        }
        receive_at_least(conn, size + 2, deadline);
        if (conn.input().compare(size, 2, "\r\n") != 0) {
            throw std::runtime_error("chunk not followed by CRLF");
        }
        body.append(conn.input(), 0, size);
        conn.input().erase(0, size + 2);
    }
}

void parse_status_line(const std::string& line, Response& response) {
    std::size_t sp1 = line.find(' ');
    if (sp1 == std::string::npos || !line.starts_with("HTTP/1.") || line.size() < sp1 + 4 ||
        !std::all_of(line.begin() + sp1 + 1, line.begin() + sp1 + 4,
                     [](unsigned char c) { return std::isdigit(c) != 0; }) ||
        (line.size() > sp1 + 4 && line[sp1 + 4] != ' ')) {
        throw std::runtime_error("malformed status line: " + printable(line));
    }
    response.version = line.substr(0, sp1);
    response.status = std::stoi(line.substr(sp1 + 1, 3));
    response.reason = line.size() > sp1 + 5 ? line.substr(sp1 + 5) : "";
}

void parse_header_line(const std::string& line, Response& response) {
    std::size_t colon = line.find(':');
    bool bad = colon == std::string::npos || colon == 0 ||
               line.find_first_of("\r\n") != std::string::npos ||
               line.find_first_of(" \t") < colon;  // also rejects obsolete line folding
    if (bad) throw std::runtime_error("malformed header line: " + printable(line));
    response.headers.emplace(line.substr(0, colon),
                             std::string(trim(std::string_view(line).substr(colon + 1))));
}

}  // namespace

std::runtime_error errno_error(const std::string& what) {
    return std::runtime_error(what + ": " + std::strerror(errno));
}

int millis_until(Deadline deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::max<long long>(0, left.count()));
}

// Waits until `fd` is ready for `events`; throws TimeoutError at `deadline`.
void wait_ready(int fd, short events, Deadline deadline, const char* what) {
    for (;;) {
        pollfd pfd{fd, events, 0};
        int ready = ::poll(&pfd, 1, millis_until(deadline));
        if (ready > 0) return;
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) throw errno_error("poll");
        throw TimeoutError(std::string("timed out ") + what);
    }
}


Connection Connection::open(std::uint16_t port, std::string host) {
    return connect_to(port, std::move(host), std::nullopt);
}

Connection Connection::open_with_receive_buffer(std::uint16_t port, int bytes) {
    return connect_to(port, "127.0.0.1", bytes);
}

Connection Connection::connect_to(std::uint16_t port, std::string host, std::optional<int> receive_buffer) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    sockaddr_storage address{};
    socklen_t address_len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        address_len = sizeof *v4;
    } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        address_len = sizeof *v6;
    } else {
        throw std::runtime_error("not an IP address: " + host);
    }

    // Non-blocking, so that every wait goes through poll() with a deadline.
    int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw errno_error("socket");
    Connection conn(fd);
    if (receive_buffer &&
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &*receive_buffer, sizeof *receive_buffer) != 0) {
        throw errno_error("setsockopt SO_RCVBUF");
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), address_len) != 0) {
        if (errno != EINPROGRESS) throw errno_error("connect to " + host);
        wait_ready(fd, POLLOUT, deadline_in(kGuardTimeout), "connecting");
        int error = 0;
        socklen_t len = sizeof error;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
        if (error != 0) {
            errno = error;
            throw errno_error("connect to " + host + ":" + std::to_string(port));
        }
    }
    return conn;
}

Connection::Connection(Connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      input_(std::move(other.input_)),
      peer_closed_(other.peer_closed_),
      was_reset_(other.was_reset_) {}

Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        input_ = std::move(other.input_);
        peer_closed_ = other.peer_closed_;
        was_reset_ = other.was_reset_;
    }
    return *this;
}

Connection::~Connection() { close(); }

void Connection::send_all(std::string_view bytes) {
    const Deadline deadline = deadline_in(kGuardTimeout);
    while (!bytes.empty()) {
        // MSG_NOSIGNAL: a server that hung up gives EPIPE here, not SIGPIPE.
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            wait_ready(fd_, POLLOUT, deadline, "sending (the server is not reading)");
        } else if (errno != EINTR) {
            throw errno_error("send");
        }
    }
}

std::size_t Connection::send_available(std::string_view bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            break;
        } else if (errno != EINTR) {
            throw errno_error("send");
        }
    }
    return sent;
}

void Connection::send_byte_by_byte(std::string_view bytes) {
    int on = 1;
    if (::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0) {
        throw errno_error("setsockopt TCP_NODELAY");
    }
    for (std::size_t i = 0; i < bytes.size(); ++i) send_all(bytes.substr(i, 1));
}

bool Connection::send_tolerant(std::string_view bytes, std::size_t piece) {
    Deadline deadline = deadline_in(kGuardTimeout);
    while (!bytes.empty()) {
        ssize_t n = ::send(fd_, bytes.data(), std::min(piece, bytes.size()), MSG_NOSIGNAL);
        if (n > 0) {
            bytes.remove_prefix(static_cast<std::size_t>(n));
            deadline = deadline_in(kGuardTimeout);  // progress: the guard starts over
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            wait_ready(fd_, POLLOUT, deadline, "sending (the server is not reading)");
        } else if (errno == EPIPE || errno == ECONNRESET) {
            return false;
        } else if (errno != EINTR) {
            throw errno_error("send");
        }
    }
    return true;
}

bool Connection::receive(Deadline deadline) {
    while (!peer_closed_) {
        wait_ready(fd_, POLLIN, deadline, "waiting for bytes from the server");
        char chunk[16 * 1024];
        ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n > 0) {
            input_.append(chunk, static_cast<std::size_t>(n));
            return true;
        }
        if (n == 0) {
            peer_closed_ = true;
        } else if (errno == ECONNRESET) {
            peer_closed_ = was_reset_ = true;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            throw errno_error("recv");
        }
    }
    return false;
}

bool Connection::receive_until(const std::function<bool(const std::string&)>& done,
                               Deadline deadline) {
    while (!done(input_)) {
        if (!receive(deadline)) return done(input_);
    }
    return true;
}

bool Connection::receive_until_contains(std::string_view needle, Deadline deadline) {
    return receive_until([needle](const std::string& input) { return input.find(needle) != std::string::npos; },
                         deadline);
}

bool Connection::readable_now() const {
    pollfd pfd{fd_, POLLIN, 0};
    return ::poll(&pfd, 1, 0) > 0;
}

bool Connection::wait_for_close(Deadline deadline) {
    try {
        while (receive(deadline)) {}
        return true;
    } catch (const TimeoutError&) {
        return false;
    }
}

void Connection::shutdown_write() {
    if (::shutdown(fd_, SHUT_WR) != 0) throw errno_error("shutdown");
}

void Connection::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void Connection::reset() {
    linger abortive{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    close();
}

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) <
               std::tolower(static_cast<unsigned char>(y));
    });
}

std::string Response::header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
}

Response parse_head(std::string_view head) {
    Response response;
    std::size_t line_start = 0;
    for (bool first = true; line_start <= head.size(); first = false) {
        std::size_t eol = std::min(head.find("\r\n", line_start), head.size());
        std::string line(head.substr(line_start, eol - line_start));
        if (first) parse_status_line(line, response);
        else parse_header_line(line, response);
        line_start = eol + 2;
    }
    return response;
}

Response read_response(Connection& conn, bool head_request, Deadline deadline) {
    std::string& in = conn.input();
    std::size_t head_end;
    while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
        if (!conn.receive(deadline)) {
            throw std::runtime_error(std::string("connection ") +
                                     (conn.was_reset() ? "reset" : "closed") +
                                     " before a complete response head; received: " +
                                     printable(in));
        }
    }
    Response response = parse_head(std::string_view(in).substr(0, head_end));
    in.erase(0, head_end + 4);

    const int status = response.status;
    if (head_request || status / 100 == 1 || status == 204 || status == 304) return response;
    if (icontains(response.header("Transfer-Encoding"), "chunked")) {
        response.body = read_chunked_body(conn, deadline);
    } else if (response.has("Content-Length")) {
        std::size_t length = std::stoul(response.header("Content-Length"));
        receive_at_least(conn, length, deadline);
        response.body = in.substr(0, length);
        in.erase(0, length);
    } else if (response.header("Content-Type").starts_with("text/event-stream")) {
        // The stream stays in conn.input() for an SseReader.
    } else {
        while (conn.receive(deadline)) {}
        response.body = std::exchange(in, std::string());
    }
    return response;
}

std::string make_request(std::string_view method, std::string_view target,
                         std::string_view extra_headers) {
    std::string request;
    request.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    request.append("Host: localhost\r\n").append(extra_headers).append("\r\n");
    return request;
}

Response exchange(Connection& conn, std::string_view request) {
    conn.send_all(request);
    return read_response(conn, request.starts_with("HEAD "));
}

Response fetch(std::uint16_t port, std::string_view request) {
    Connection conn = Connection::open(port);
    return exchange(conn, request);
}

bool loopback_ipv6_available() {
    int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_loopback;
    bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return bound;
}

}  // namespace sse::test
