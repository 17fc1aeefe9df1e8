// libFuzzer target: the whole server, fed through a socketpair.
//
// Each input is one client connection: its bytes are written to the server
// in pieces (the first byte picks their sizes, so the fuzzer explores every
// way a request can be cut), the loop runs between pieces, and the
// answers are read and thrown away. A second connection, the "watcher",
// is subscribed to a few topics so that publishing, fan-out and ending a
// topic reach a live stream. At the end both clients hang up, and the
// server must have closed every connection within a bounded number of loop
// iterations; if it has not, the fuzzer aborts (a connection would leak).
//
// The application (loop, server, hub, routes) is built once, wired as in
// main.cpp, and serves every input, as a real server serves every client:
// topics, history (small limits) and ended topics carry over from one
// input to the next. Building it afresh per input would make
// every input stand alone, but costs four times the executions per second
// (the sanitizer's allocator then touches fresh pages for each new server),
// so a crash that needs earlier inputs is reproduced by replaying the
// corpus before it (see README.md). No real time passes within an input
// and every timeout is seconds long, so timers never fire within one,
// except /random's first pause, which may be 0 ms.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "loop/event_loop.h"
#include "sse/hub.h"
#include "loop/log.h"
#include "options.h"
#include "app/access.h"
#include "app/presence_api.h"
#include "app/pubsub_api.h"
#include "app/random_stream.h"
#include "app/routes.h"
#include "server/server.h"
#include "loop/socket.h"
#include "http/static_files.h"
#include "app/status_api.h"

namespace {

// Loop iterations allowed for everything to close after both clients hang
// up; a handful is enough, so reaching this means a connection is stuck.
constexpr int kMaxClosingIterations = 200;
// Loop iterations after the last piece, before hanging up.
constexpr int kSettleIterations = 4;
// The wall clock the hub starts at, and the ids of its seeded history
// (1000-0, 1000-1, 1000-2), so inputs can resume with a known Last-Event-ID.
constexpr std::uint64_t kSeedWallMs = 1000;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_server: %s\n", what);
    std::abort();
}

// A small www folder, made once and removed at exit.
const sse::StaticFiles& static_files() {
    static std::string root;
    static std::optional<sse::StaticFiles> files;
    if (files) return *files;
    char pattern[] = "/tmp/sse-fuzz-www-XXXXXX";
    if (!::mkdtemp(pattern)) fail("mkdtemp failed");
    root = pattern;
    std::filesystem::create_directory(root + "/sub");
    auto write = [](const std::string& path, std::string_view text) {
        std::FILE* file = std::fopen(path.c_str(), "w");
        if (!file) fail("cannot write the www folder");
        std::fwrite(text.data(), 1, text.size(), file);
        std::fclose(file);
    };
    write(root + "/index.html", "<!doctype html><title>sse</title><p>fuzz</p>\n");
    write(root + "/style.css", "p { color: teal; }\n");
    write(root + "/sub/index.html", "<p>sub</p>\n");
    std::filesystem::create_symlink("/etc/hostname", root + "/outside");
    std::string error;
    files = sse::StaticFiles::open(root, error);
    if (!files) fail(error.c_str());
    std::atexit([] { std::filesystem::remove_all(root); });
    return *files;
}

// --no-demo, small limits, one CORS origin: the wiring of main.cpp.
sse::Options fuzz_options() {
    sse::Options options;
    options.demo = false;
    options.history = 8;
    options.history_bytes = 16 * 1024;
    options.max_buffer = 64 * 1024;
    options.max_event_bytes = 4 * 1024;
    options.cors_origins = {"https://example.com"};
    options.quiet = true;
    return options;
}

// Everything main() builds, in the same order; never destroyed.
struct App {
    std::unique_ptr<sse::EventLoop> loop;
    std::unique_ptr<sse::Server> server;
    std::unique_ptr<sse::RandomStream> random_stream;
    std::unique_ptr<sse::Hub> hub;
    std::unique_ptr<sse::Access> access;
    std::unique_ptr<sse::PubSubApi> pubsub;
    std::unique_ptr<sse::PresenceApi> presence;
    std::unique_ptr<sse::StatusApi> status;

    App() {
        std::string error;
        loop = sse::EventLoop::create(error);
        if (!loop) fail(error.c_str());
        sse::Options options = fuzz_options();
        server = std::make_unique<sse::Server>(*loop, options);
        random_stream = std::make_unique<sse::RandomStream>(*server, 1);
        random_stream->install();
        sse::HubLimits limits;
        limits.history_per_topic = options.history;
        limits.history_bytes = options.history_bytes;
        hub = std::make_unique<sse::Hub>(limits, kSeedWallMs);
        for (const char* topic : {"news", "weather", "news"}) hub->publish(topic, "", "seed", kSeedWallMs);
        // As in the demo: a fixed key, and private.** private, so requests
        // with and without tokens reach the access checks.
        access = std::make_unique<sse::Access>(
            sse::Access::demo("fuzz-key-0123456789abcdef0123456789", "private.**", options));
        pubsub = std::make_unique<sse::PubSubApi>(*server, *hub, *access);
        pubsub->install();
        presence = std::make_unique<sse::PresenceApi>(*server, *hub, *pubsub);
        presence->install();
        status = std::make_unique<sse::StatusApi>(*server, *hub, *pubsub);
        status->show_presence(*presence);
        status->install();
        sse::install_static_files(*server, static_files());
    }
};

App* the_app = nullptr;

// Reads whatever the server sent, keeping it in `keep` when given; false
// once the server hung up.
bool drain(int fd, std::string* keep) {
    char buffer[16 * 1024];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) {
            if (keep) keep->append(buffer, static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0) return false;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    }
}

// One client end of a socketpair whose other end the server adopted.
struct Client {
    int fd = -1;
    bool open = true;        // the server has not hung up
    std::string* received = nullptr;  // keeps what was read, for the self-test

    Client(App& app, const sse::SocketAddress& peer) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
            fail("socketpair failed");
        }
        app.server->adopt(sse::UniqueFd(fds[0]), peer);
        fd = fds[1];
    }
    ~Client() { close(); }
    void close() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
    void read_all() {
        if (fd >= 0 && open) open = drain(fd, received);
    }
    // Writes all of `bytes`, running the loop while the socket is full;
    // gives up when the server stops reading (it may have answered and quit).
    void write_all(App& app, std::string_view bytes) {
        for (int tries = 0; !bytes.empty() && tries < 64; ++tries) {
            ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n > 0) {
                bytes.remove_prefix(static_cast<std::size_t>(n));
                continue;
            }
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return;
            app.loop->run_once(0);
            read_all();
        }
    }
};

// Piece sizes, chosen by the input's first byte: whole, one byte at a
// time, or a fixed size from 2 to 64 bytes.
std::size_t piece_size(std::uint8_t control, std::size_t total) {
    switch (control & 0x0F) {
        case 0: return total;
        case 1: return 1;
        default: return std::size_t{2} << ((control & 0x0F) % 6);
    }
}

sse::SocketAddress address(const char* host) {
    sse::SocketAddress out;
    if (!sse::parse_address(host, 1, out)) fail("parse_address failed");
    return out;
}

// A multi-topic stream that replays the seeded history, so that what the
// input publishes or ends reaches a live subscriber.
constexpr std::string_view kWatcherRequest =
    "GET /latest?type=news,weather,x HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 1000-0\r\n\r\n";

void run(App& app, std::uint8_t control, std::string_view input, std::string* watched = nullptr) {
    // An earlier input may have ended every watched topic; the watcher
    // would then get 204 instead of a stream, so one of them is revived.
    static const std::string kWatchedTopics[] = {"news", "weather", "x"};
    if (app.hub->all_ended(kWatchedTopics)) app.hub->publish("news", "", "revived", kSeedWallMs);
    Client watcher(app, address("127.0.0.1"));
    watcher.received = watched;
    watcher.write_all(app, kWatcherRequest);
    app.loop->run_once(0);
    watcher.read_all();

    // Bit 4 of the control byte makes the client a remote peer (no publishing).
    Client client(app, address((control & 0x10) ? "192.0.2.1" : "127.0.0.1"));
    std::size_t size = piece_size(control, input.size());
    while (!input.empty()) {
        std::size_t n = std::min(size, input.size());
        client.write_all(app, input.substr(0, n));
        input.remove_prefix(n);
        app.loop->run_once(0);
        client.read_all();
        watcher.read_all();
    }
    for (int i = 0; i < kSettleIterations; ++i) {
        app.loop->run_once(0);
        client.read_all();
        watcher.read_all();
    }

    // Bit 5 hangs up the client with a half-close (it still reads the
    // answers, as netcat does), else with a full close.
    if (control & 0x20) ::shutdown(client.fd, SHUT_WR);
    else client.close();
    watcher.close();
    for (int i = 0; i < kMaxClosingIterations && app.server->connection_count() > 0; ++i) {
        app.loop->run_once(0);
        client.read_all();
    }
    if (app.server->connection_count() != 0) fail("a connection stayed open after its client hung up");
}

// Checks the wiring once before fuzzing: the watcher gets its stream and
// the replay, and a publish reaches it. Without this, a change in the
// server (a new required header, say) could quietly turn every input into
// a 400 and the fuzzer would explore nothing.
void self_test(App& app) {
    std::string watched;
    run(app, 0, "POST /publish?topic=news HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nself-test", &watched);
    bool ok = watched.starts_with("HTTP/1.1 200") && watched.find("text/event-stream") != std::string::npos &&
              watched.find("data: seed\n") != std::string::npos &&
              watched.find("data: self-test\n") != std::string::npos;
    if (!ok) {
        std::fprintf(stderr, "fuzz_server: the watcher received:\n%s\n", watched.c_str());
        fail("self-test failed: the fuzzer's requests no longer reach a stream");
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // The server ignores SIGPIPE (main does it with its signalfd); so do we.
    ::signal(SIGPIPE, SIG_IGN);
    sse::Log::set_quiet(true);
    the_app = new App;
    self_test(*the_app);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    run(*the_app, data[0], std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    return 0;
}
