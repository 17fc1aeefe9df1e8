// sse-server: parse the flags, open the www folder, start the loop.
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>


#include "app/access.h"
#include "app/demo_feeds.h"
#include "app/demo_tokens.h"
#include "loop/event_loop.h"
#include "sse/hub.h"
#include "loop/log.h"
#include "options.h"
#include "app/presence_api.h"
#include "app/pubsub_api.h"
#include "redis/redis_bridge.h"
#include "app/random_stream.h"
#include "app/routes.h"
#include "server/server.h"
#include "loop/socket.h"
#include "http/static_files.h"
#include "app/status_api.h"

namespace {

// The www folder beside the executable, so ./sse-server works from any
// directory; else ./www (for builds placed elsewhere, such as build/asan/).
std::string default_www() {
    std::vector<char> path(4096);
    ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
    if (n <= 0) return "www";
    std::string exe(path.data(), static_cast<std::size_t>(n));
    std::string beside = exe.substr(0, exe.rfind('/') + 1) + "www";
    struct stat info {};
    return ::stat(beside.c_str(), &info) == 0 && S_ISDIR(info.st_mode) ? beside : "www";
}

std::string display_url(const sse::Options& options, const sse::SocketAddress& bound) {
    std::string host;
    if (options.bind == "::" || options.bind == "0.0.0.0") host = "localhost";
    else if (bound.family() == AF_INET6) host = "[" + options.bind + "]";
    else host = options.bind;
    return "http://" + host + ":" + std::to_string(bound.port());
}

// Connections are file descriptors: allow as many as the hard limit lets.
void raise_fd_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

int fail(const std::string& message) {
    std::fprintf(stderr, "sse-server: %s\n", message.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    sse::Options options;
    std::vector<std::string_view> args(argv + 1, argv + argc);
    sse::ParseOutcome outcome = sse::parse_options(args, options);
    if (!outcome.run) {
        std::fputs(outcome.message.c_str(), outcome.exit_code == 0 ? stdout : stderr);
        if (outcome.exit_code != 0) std::fputc('\n', stderr);
        return outcome.exit_code;
    }
    if (options.www.empty()) options.www = default_www();
    sse::Log::set_quiet(options.quiet);
    sse::Log::set_access_log(options.access_log);
    raise_fd_limit();

    std::string error;
    std::optional<sse::StaticFiles> files = sse::StaticFiles::open(options.www, error);
    if (!files) return fail(error);

    // Signals arrive as readable bytes on a descriptor, handled in the loop
    // like any socket: no code runs inside an asynchronous signal handler.
    sse::UniqueFd signals = sse::open_signal_fd({SIGINT, SIGTERM}, error);
    if (!signals) return fail(error);

    std::unique_ptr<sse::EventLoop> loop = sse::EventLoop::create(error);
    if (!loop) return fail(error);

    sse::Server server(*loop, options);
    std::random_device seed;
    sse::RandomStream random_stream(server, seed());
    random_stream.install();

    sse::HubLimits limits;
    limits.history_per_topic = options.history;
    limits.history_bytes = options.history_bytes;
    sse::Hub hub(limits, sse::wall_clock_ms());
    // Private topics: with keys, every topic is private unless --public; in
    // the demo (no key, demo feeds on) only kDemoPrivatePattern is, with a
    // random key and tokens handed out by /demo/token.
    bool demo_private = options.demo && options.jwt_keys.empty();
    std::string demo_key = demo_private ? sse::random_demo_key() : std::string();
    sse::Access access = demo_private
                             ? sse::Access::demo(demo_key, std::string(sse::kDemoPrivatePattern), options)
                             : sse::Access(options);
    sse::PubSubApi pubsub(server, hub, access);
    pubsub.install();
    // Declared before the bridge, as pubsub is: it outlives the bridge's
    // last callbacks.
    sse::PresenceApi presence(server, hub, pubsub);
    presence.install();
    std::unique_ptr<sse::DemoTokens> demo_tokens;
    if (demo_private) {
        demo_tokens = std::make_unique<sse::DemoTokens>(server, demo_key, options.jwt_cookie);
        demo_tokens->install();
    }
    std::unique_ptr<sse::RedisBridge> redis;
    if (!options.redis.empty()) {
        std::string host;
        std::uint16_t port = 0;
        if (!sse::parse_host_port(options.redis, host, port)) return fail("--redis expects HOST:PORT");
        redis = std::make_unique<sse::RedisBridge>(*loop, hub, host, port, options.redis_key, options.history);
        pubsub.use_redis(redis.get());
        presence.use_redis(*redis);
        redis->start();
    }
    sse::StatusApi status(server, hub, pubsub, redis.get());
    status.show_presence(presence);
    status.install();
    sse::DemoFeeds demo(
        *loop,
        [&](std::string_view topic, const std::string& data) {
            if (redis) {
                if (redis->up()) {
                    const std::string topics[] = {std::string(topic)};
                    redis->publish(topics, "", data, std::nullopt, std::nullopt, false,
                                   [](std::optional<sse::EventId>, const std::string&) {});
                }
            } else {
                hub.publish(topic, "", data, sse::wall_clock_ms());
            }
        },
        seed());
    if (options.demo) demo.start();

    sse::install_static_files(server, *files);
    if (!server.start(error)) return fail(error);

    // The first SIGINT/SIGTERM shuts down gracefully; a second one stops
    // the loop at once.
    loop->watch(signals.get(), EPOLLIN, [&](std::uint32_t) {
        signalfd_siginfo info;
        while (::read(signals.get(), &info, sizeof info) == sizeof info) {
        }
        if (server.shutting_down()) {
            loop->stop();
            return;
        }
        sse::Log::info("shutting down: ending streams, at most " + std::to_string(options.shutdown_ms) + " ms");
        presence.withdraw();
        server.shutdown(options.shutdown_ms);
    });

    sse::Log::info("version " + std::string(sse::kVersion) + " on " + server.bound_address().to_string() +
                   ": max-conns " + std::to_string(server.max_connections()) + ", history " +
                   std::to_string(options.history) + " per topic, heartbeat " + std::to_string(options.heartbeat_ms) +
                   " ms, publishing " + (options.publish_token.empty() ? "from loopback" : "with token") +
                   ", demo " + (options.demo ? "on" : "off"));
    std::printf("sse-server listening on %s\n", display_url(options, server.bound_address()).c_str());
    std::fflush(stdout);
    if (!loop->run()) return fail("epoll_wait failed");
    loop->unwatch(signals.get());
    return 0;
}
