#include "hardening_client.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace sse::test {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Parses a head ("HTTP/1.1 200 OK\r\nName: value...") without its blank line.
Response parse_head(std::string_view head) {
    Response response;
    std::size_t eol = std::min(head.find("\r\n"), head.size());
    std::string_view status_line = head.substr(0, eol);
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ') {
        throw std::runtime_error("malformed status line: " + std::string(status_line.substr(0, 100)));
    }
    response.version = std::string(status_line.substr(0, 8));
    response.status = std::stoi(std::string(status_line.substr(9, 3)));
    response.reason = status_line.size() > 13 ? std::string(status_line.substr(13)) : "";
    while (eol < head.size()) {
        std::size_t start = eol + 2;
        eol = std::min(head.find("\r\n", start), head.size());
        std::string_view line = head.substr(start, eol - start);
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            throw std::runtime_error("malformed header line: " + std::string(line.substr(0, 100)));
        }
        response.headers.emplace(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
    }
    return response;
}

// The inode of the socket listening on 127.0.0.1:port, from /proc/net/tcp.
std::string listening_inode(std::uint16_t port) {
    std::ifstream tcp("/proc/net/tcp");
    std::string line;
    char wanted[32];
    std::snprintf(wanted, sizeof wanted, "0100007F:%04X", port);
    std::getline(tcp, line);  // the column titles
    while (std::getline(tcp, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
        fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
        if (local == wanted && state == "0A") return inode;  // 0A: LISTEN
    }
    return "";
}

bool process_holds_socket(const std::string& pid, const std::string& inode) {
    std::string dir = "/proc/" + pid + "/fd";
    DIR* fds = ::opendir(dir.c_str());
    if (!fds) return false;
    const std::string target = "socket:[" + inode + "]";
    bool found = false;
    while (dirent* entry = ::readdir(fds)) {
        char link[128];
        std::string path = dir + "/" + entry->d_name;
        ssize_t n = ::readlink(path.c_str(), link, sizeof link - 1);
        if (n > 0 && std::string_view(link, static_cast<std::size_t>(n)) == target) {
            found = true;
            break;
        }
    }
    ::closedir(fds);
    return found;
}

// The parent pid field of /proc/<pid>/stat (after the parenthesised name).
pid_t parent_of(const std::string& pid) {
    std::ifstream stat("/proc/" + pid + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::size_t close_paren = text.rfind(')');
    if (close_paren == std::string::npos) return -1;
    std::istringstream rest(text.substr(close_paren + 1));
    std::string state;
    pid_t parent = -1;
    rest >> state >> parent;
    return parent;
}

}  // namespace

RawSocket RawSocket::open(std::uint16_t port, std::optional<int> receive_buffer) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw errno_error("socket");
    RawSocket sock(fd);
    if (receive_buffer &&
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &*receive_buffer, sizeof *receive_buffer) != 0) {
        throw errno_error("setsockopt SO_RCVBUF");
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        if (errno != EINPROGRESS) throw errno_error("connect");
        wait_ready(fd, POLLOUT, deadline_in(kGuardTimeout), "connecting");
        int error = 0;
        socklen_t len = sizeof error;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
        if (error != 0) {
            errno = error;
            throw errno_error("connect");
        }
    }
    return sock;
}

RawSocket::RawSocket(RawSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      input_(std::move(other.input_)),
      peer_closed_(other.peer_closed_),
      was_reset_(other.was_reset_) {}

RawSocket& RawSocket::operator=(RawSocket&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        input_ = std::move(other.input_);
        peer_closed_ = other.peer_closed_;
        was_reset_ = other.was_reset_;
    }
    return *this;
}

RawSocket::~RawSocket() { close(); }

void RawSocket::close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

bool RawSocket::send_tolerant(std::string_view bytes, std::size_t piece) {
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

bool RawSocket::receive(Deadline deadline) {
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

bool RawSocket::readable_now() const {
    pollfd pfd{fd_, POLLIN, 0};
    return ::poll(&pfd, 1, 0) > 0;
}

bool RawSocket::wait_for_close(Deadline deadline) {
    try {
        while (receive(deadline)) {}
        return true;
    } catch (const TimeoutError&) {
        return false;
    }
}

bool RawSocket::receive_until_contains(std::string_view needle, Deadline deadline) {
    while (input_.find(needle) == std::string::npos) {
        if (!receive(deadline)) return input_.find(needle) != std::string::npos;
    }
    return true;
}

void RawSocket::shutdown_write() {
    if (::shutdown(fd_, SHUT_WR) != 0) throw errno_error("shutdown");
}

void RawSocket::reset() {
    linger abortive{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    close();
}

std::vector<Response> parse_responses(std::string_view bytes) {
    std::vector<Response> responses;
    while (!bytes.empty()) {
        std::size_t head_end = bytes.find("\r\n\r\n");
        if (head_end == std::string_view::npos) throw std::runtime_error("incomplete response head");
        Response response = parse_head(bytes.substr(0, head_end));
        bytes.remove_prefix(head_end + 4);
        int status = response.status;
        if (status / 100 != 1 && status != 204 && status != 304) {
            if (response.has("Content-Length")) {
                std::size_t length = std::stoul(response.header("Content-Length"));
                if (length > bytes.size()) throw std::runtime_error("response body cut short");
                response.body = std::string(bytes.substr(0, length));
                bytes.remove_prefix(length);
            } else {
                response.body = std::string(bytes);
                bytes = {};
            }
        }
        responses.push_back(std::move(response));
    }
    return responses;
}

bool retry_until(const std::function<bool()>& attempt, Deadline deadline, std::chrono::milliseconds pause) {
    for (;;) {
        if (attempt()) return true;
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(pause);
    }
}

pid_t find_server_pid(std::uint16_t port) {
    std::string inode = listening_inode(port);
    if (inode.empty() || inode == "0") return -1;
    DIR* proc = ::opendir("/proc");
    if (!proc) return -1;
    pid_t found = -1;
    const pid_t self = ::getpid();
    while (dirent* entry = ::readdir(proc)) {
        std::string name = entry->d_name;
        if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
        if (parent_of(name) != self) continue;
        if (process_holds_socket(name, inode)) {
            found = static_cast<pid_t>(std::stol(name));
            break;
        }
    }
    ::closedir(proc);
    return found;
}

std::size_t kernel_send_buffer_max() {
    std::ifstream wmem("/proc/sys/net/ipv4/tcp_wmem");
    std::size_t min = 0, initial = 0, max = 0;
    if (wmem >> min >> initial >> max && max > 0) return max;
    return 4 * 1024 * 1024;
}

long subscribers_in(const std::string& json) {
    constexpr std::string_view key = "\"subscribers\":";
    std::size_t at = json.find(key);
    if (at == std::string::npos) return -1;
    return std::stol(json.substr(at + key.size()));
}

}  // namespace sse::test
