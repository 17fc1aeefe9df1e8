// Clock, signals and small text helpers: what every part of sse-load uses.
#pragma once

#include <charconv>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sse_load {

// CLOCK_MONOTONIC, not the wall clock: publisher and subscriber run on the
// same machine, so they share it, and it never jumps.
std::int64_t now_ns();

constexpr std::int64_t kNsPerSecond = 1'000'000'000;

// CPU seconds this process has used (user + system): tells a reader whether
// the load generator, rather than the server, was the bottleneck.
double own_cpu_seconds();

// Set by SIGINT/SIGTERM. The handlers are installed without SA_RESTART, so
// epoll_wait returns EINTR at once and the loop sees the flag.
extern volatile std::sig_atomic_t g_stop;

// Installs the handlers that set g_stop, and ignores SIGPIPE.
void install_signal_handlers();

// Many streams need many descriptors; the soft limit is often 1024 while the
// hard limit is far higher, and raising the soft one needs no privilege.
// Returns the soft limit now in force.
std::uint64_t raise_fd_limit();

// The symbolic name of the errors a load run meets ("ECONNREFUSED"),
// "errno N" for others; used as a key in "error_kinds".
std::string errno_name(int error);

// Equal up to ASCII letter case.
bool iequals(std::string_view a, std::string_view b);

// All of `text` as a Number (std::from_chars syntax, no bytes left over),
// or nothing.
template <class Number>
std::optional<Number> parse_number(std::string_view text) {
    Number value{};
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// The pieces between separators; "" gives one empty piece.
std::vector<std::string> split(std::string_view text, char separator);

// The parts with `separator` between them.
std::string join(const std::vector<std::string>& parts, char separator);

// Replaces every occurrence of `name` (e.g. "{topic}") in `pattern`.
std::string substitute(std::string pattern, std::string_view name, std::string_view value);

// The first line of the file at `path`, without its line end and the
// blanks around it, as the server reads its key and token files. Dies if
// the file cannot be read or that line is empty.
std::string first_line_of(std::string_view path);

// Prints "sse-load: MESSAGE" on stderr and exits with status 2 (bad option
// or start-up failure).
[[noreturn]] void die(const std::string& message);

}  // namespace sse_load
