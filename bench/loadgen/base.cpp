#include "base.h"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>

namespace sse_load {

std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

double own_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](timeval tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

volatile std::sig_atomic_t g_stop = 0;

namespace {

void on_stop_signal(int) { g_stop = 1; }

}  // namespace

void install_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);  // a peer that closes must not kill us
}

std::uint64_t raise_fd_limit() {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
    return limit.rlim_cur;
}

std::string errno_name(int error) {
    switch (error) {
        case ECONNREFUSED: return "ECONNREFUSED";
        case ECONNRESET: return "ECONNRESET";
        case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
        case EMFILE: return "EMFILE";
        case ENFILE: return "ENFILE";
        case ETIMEDOUT: return "ETIMEDOUT";
        case EPIPE: return "EPIPE";
        default: return "errno " + std::to_string(error);
    }
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x | 0x20) == (y | 0x20);  // ASCII letters only, enough for header names
           });
}

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    while (true) {
        std::size_t at = text.find(separator);
        parts.emplace_back(text.substr(0, at));
        if (at == std::string_view::npos) return parts;
        text.remove_prefix(at + 1);
    }
}

std::string join(const std::vector<std::string>& parts, char separator) {
    std::string out;
    for (const std::string& part : parts) {
        if (!out.empty()) out += separator;
        out += part;
    }
    return out;
}

std::string substitute(std::string pattern, std::string_view name, std::string_view value) {
    for (std::size_t at = pattern.find(name); at != std::string::npos; at = pattern.find(name, at + value.size())) {
        pattern.replace(at, name.size(), value);
    }
    return pattern;
}

std::string first_line_of(std::string_view path) {
    std::ifstream file{std::string(path), std::ios::binary};
    if (!file) die("cannot read '" + std::string(path) + "': " + std::strerror(errno));
    std::string line;
    std::getline(file, line);
    std::string_view text = line;
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
    if (text.empty()) die("found nothing on the first line of '" + std::string(path) + "'");
    return std::string(text);
}

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "sse-load: %s\n", message.c_str());
    std::exit(2);
}

}  // namespace sse_load
