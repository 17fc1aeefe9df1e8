#include "sockets.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <optional>

namespace sse_load {

Target parse_url(std::string_view url) {
    if (url.starts_with("http://")) url.remove_prefix(7);
    std::size_t slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    Target target;
    target.host = authority;
    target.path_pattern = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
    std::size_t colon = authority.rfind(':');
    std::string ip(authority.substr(0, colon));
    std::optional<std::uint16_t> port =
        colon == std::string_view::npos ? 80 : parse_number<std::uint16_t>(authority.substr(colon + 1));
    target.address.sin_family = AF_INET;
    if (!port || inet_pton(AF_INET, ip.c_str(), &target.address.sin_addr) != 1) {
        die("bad --url '" + std::string(url) + "' (want http://IPV4:PORT/PATH)");
    }
    target.address.sin_port = htons(*port);
    return target;
}

SourceAddresses::SourceAddresses(std::size_t count, const std::string& first) {
    in_addr base{};
    if (inet_pton(AF_INET, first.c_str(), &base) != 1) die("bad --source '" + first + "' (want an IPv4 address)");
    std::uint32_t host_order = ntohl(base.s_addr);
    if ((host_order >> 24) != 127 || (host_order & 0xffffff) + count > 0xffffff) {
        die("--source and --sources must stay within 127.0.0.0/8 (loopback only)");
    }
    for (std::size_t i = 0; i < count; ++i) {
        sockaddr_in source{};
        source.sin_family = AF_INET;
        source.sin_addr.s_addr = htonl(host_order + static_cast<std::uint32_t>(i));
        addresses_.push_back(source);
    }
}

int start_connect(const Target& target, const sockaddr_in* source, int& error) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = errno;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // small requests must not wait
    if (source) {
        // Without this, bind() would pick the port at once, unique for the
        // address alone; with it, connect() picks it unique for the whole
        // 4-tuple, which is what lets one source address reach 28k ports.
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, reinterpret_cast<const sockaddr*>(source), sizeof *source) != 0) {
            error = errno;
            close(fd);
            return -1;
        }
    }
    if (connect(fd, reinterpret_cast<const sockaddr*>(&target.address), sizeof target.address) != 0 &&
        errno != EINPROGRESS) {
        error = errno;
        close(fd);
        return -1;
    }
    return fd;
}

int socket_error(int fd) {
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    return error;
}

char g_read_buffer[256 * 1024];

}  // namespace sse_load
