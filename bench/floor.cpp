// floor: the CPU cost of the cheapest possible delivery, as a yardstick.
//
// A server that fans an event out must at least copy it into each
// subscriber's socket. This program measures only that: a writer puts a
// small event (60 bytes on the wire, like the benchmark's) into loopback TCP sockets in
// a bare loop, and a reader in another process drains them. Only the
// writer's CPU is counted (CLOCK_PROCESS_CPUTIME_ID; the reader is a separate
// process), divided by the events delivered. Variants:
//
//   write    one write() per event, on one socket
//   writev8  eight events per writev() on one socket (what batching buys)
//   fanout   one write() per event, round-robin over many sockets, so each
//            write touches a cold socket as a real fan-out does
//
// Note: on loopback the sender's system call also runs the receiver's TCP
// input path (the packet is delivered in the sender's context), so these
// figures include that work, exactly as they do for a server under test.
//
// Usage: floor [events] [fanout-sockets]   (defaults 2000000 and 1000)
// Prints one JSON object per variant on stdout.
//
// Built by bench/run.sh with g++ -std=c++20 -O2; not part of the server.

#include <arpa/inet.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "floor: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

std::int64_t cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t wall_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// `count` connected loopback pairs: writers[i] is connected to readers[i].
void make_pairs(int count, std::vector<int>& writers, std::vector<int>& readers) {
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) die("bind");
    if (listen(listener, 4096) != 0) die("listen");
    getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    for (int i = 0; i < count; ++i) {
        int writer = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(writer, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) die("connect");
        int one = 1;
        setsockopt(writer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as SSE servers do
        int reader = accept(listener, nullptr, nullptr);
        if (reader < 0) die("accept");
        writers.push_back(writer);
        readers.push_back(reader);
    }
    close(listener);
}

// The reader process: drains every socket until all are closed.
[[noreturn]] void drain(const std::vector<int>& readers) {
    int epoll = epoll_create1(0);
    for (int fd : readers) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.fd = fd;
        epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
    }
    std::size_t open = readers.size();
    static char buffer[1 << 16];
    epoll_event ready[256];
    while (open > 0) {
        int n = epoll_wait(epoll, ready, 256, -1);
        for (int i = 0; i < n; ++i) {
            ssize_t got = read(ready[i].data.fd, buffer, sizeof buffer);
            if (got <= 0) {
                close(ready[i].data.fd);
                --open;
            }
        }
    }
    std::_Exit(0);
}

struct Result {
    const char* variant;
    int sockets;
    std::size_t event_bytes;
    long events;
    std::int64_t cpu;
    std::int64_t wall;
};

// Writes `events` events over `sockets` sockets, `batch` events per system
// call, with a reader process draining; returns the writer's CPU.
Result run(const char* variant, int sockets, long events, int batch) {
    std::vector<int> writers, readers;
    make_pairs(sockets, writers, readers);
    pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        for (int fd : writers) close(fd);
        drain(readers);
    }
    for (int fd : readers) close(fd);

    const std::string event = "id: 1764340000000-12345\ndata: {\"seq\":12345,\"t\":1234567890}\n\n";
    std::vector<iovec> iov(static_cast<std::size_t>(batch),
                           iovec{const_cast<char*>(event.data()), event.size()});
    std::size_t bytes = event.size() * static_cast<std::size_t>(batch);
    std::int64_t cpu0 = cpu_ns(), wall0 = wall_ns();
    long calls = events / batch;
    for (long i = 0; i < calls; ++i) {
        int fd = writers[static_cast<std::size_t>(i % sockets)];
        // Blocking sockets: when the reader falls behind, the writer sleeps,
        // which costs no CPU and so does not distort the figure.
        ssize_t n = batch == 1 ? write(fd, event.data(), event.size()) : writev(fd, iov.data(), batch);
        if (n != static_cast<ssize_t>(bytes)) die("short write");
    }
    Result result{variant, sockets, event.size(), calls * batch, cpu_ns() - cpu0, wall_ns() - wall0};
    for (int fd : writers) close(fd);
    waitpid(child, nullptr, 0);
    return result;
}

void print(const Result& r) {
    std::printf(
        "{\"variant\":\"%s\",\"sockets\":%d,\"events\":%ld,\"event_bytes\":%zu,\"writer_cpu_s\":%.3f,"
        "\"ns_per_event\":%.1f,\"events_per_cpu_s\":%.0f,\"wall_s\":%.3f}\n",
        r.variant, r.sockets, r.events, r.event_bytes, static_cast<double>(r.cpu) / 1e9,
        static_cast<double>(r.cpu) / static_cast<double>(r.events),
        static_cast<double>(r.events) / (static_cast<double>(r.cpu) / 1e9), static_cast<double>(r.wall) / 1e9);
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    long events = argc > 1 ? std::atol(argv[1]) : 2'000'000;
    int fanout = argc > 2 ? std::atoi(argv[2]) : 1000;
    print(run("write", 1, events, 1));
    print(run("writev8", 1, events, 8));
    print(run("fanout", fanout, events, 1));
    return 0;
}
