// sse-load: a load generator for Server-Sent Events servers.
//
// No dependency beyond Linux and the C++ standard library, so it can be read
// like the server. Three modes:
//
//   sub    hold N event streams open, parse them incrementally, measure the
//          publish-to-receive latency of every event and count events that
//          went missing, came twice or came out of order;
//   pub    publish K events at a set rate over keep-alive connections; each
//          event carries its topic, a per-topic sequence number and the
//          CLOCK_MONOTONIC time it was sent, which is what `sub` reads back;
//   churn  open a stream, wait for its first bytes, close it, repeat: the rate
//          at which a server sets streams up and tears them down.
//
// Each mode prints ONE JSON object on stdout (for scripts) and, about once a
// second, a progress line on stderr (for people). `sse-load --help` says all.
//
// Files, from the bottom up (each includes only files above it):
//   base          clock, signals and small text helpers
//   options       the command line and --help
//   report        histogram (percentiles in bounded memory), JSON, progress
//   sockets       URL, loopback source addresses, non-blocking connect, epoll
//   http          the GET of a stream, response heads, the chunked coding
//   tokens        the token a stream sends to read private topics (minted
//                 with the server's src/auth/ code)
//   event_stream  the event-stream parser
//   payload       what pub writes and sub reads back
//   sequence      missing, duplicated, out of order
//   subscriber    sub mode
//   churner       churn mode
//   publisher     pub mode
//   main.cpp      this file: options, then one mode

#include <cstdint>
#include <cstdio>

#include "base.h"
#include "churner.h"
#include "options.h"
#include "publisher.h"
#include "sockets.h"
#include "subscriber.h"

using namespace sse_load;

int main(int argc, char** argv) {
    Options options = parse_options(argc, argv);
    Target target = parse_url(options.url);
    install_signal_handlers();
    std::uint64_t fd_limit = raise_fd_limit();
    if (options.mode == Mode::Sub && options.streams + 16 > fd_limit) {
        std::fprintf(stderr, "sse-load: warning: %zu streams but only %llu descriptors; run several processes\n",
                     options.streams, static_cast<unsigned long long>(fd_limit));
    }
    switch (options.mode) {
        case Mode::Sub: run_sub(options, target); break;
        case Mode::Churn: run_churn(options, target); break;
        case Mode::Pub: run_pub(options, target); break;
    }
    std::fflush(stdout);
    return 0;
}
