#include "server_process.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace sse::test {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kListeningPrefix = "sse-server listening on http://";

std::runtime_error errno_error(const std::string& what) {
    return std::runtime_error(what + ": " + std::strerror(errno));
}

int millis_until(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::max<long long>(0, left.count()));
}

void write_to_stderr(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::write(STDERR_FILENO, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

struct Pipe {
    int read_fd = -1;
    int write_fd = -1;
};

// Both ends close-on-exec: the child gets only what posix_spawn dup2()s.
Pipe make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw errno_error("pipe2");
    return Pipe{fds[0], fds[1]};
}

// Starts the server binary with `args`, stdin from /dev/null, stdout to
// `stdout_fd` and stderr to `stderr_fd` (inherited when -1). Signal
// dispositions and the mask are reset to defaults, so the server itself
// must decide to ignore SIGPIPE; a test would notice if it did not.
pid_t spawn_server(const std::vector<std::string>& args, int stdout_fd, int stderr_fd) {
    std::string path = server_binary_path();
    std::vector<char*> argv;
    argv.push_back(path.data());
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
    if (stderr_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stderr_fd, STDERR_FILENO);

    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("cannot start " + path + ": " + std::strerror(rc));
    }
    return pid;
}

// Reaps `pid` if it exits before `deadline`. waitpid() has no timeout, so
// this polls it every 2 ms; the interval only bounds how late we notice.
bool wait_for_exit(pid_t pid, Clock::time_point deadline, int& wait_status) {
    for (;;) {
        pid_t r = ::waitpid(pid, &wait_status, WNOHANG);
        if (r == pid) return true;
        if (r < 0 && errno != EINTR) throw errno_error("waitpid");
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

}  // namespace

std::string server_binary_path() {
    const char* from_env = std::getenv("SSE_SERVER_BIN");
    return (from_env && *from_env) ? from_env : "./sse-server";
}

int decode_wait_status(int wait_status) {
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
    return -1;
}

ServerProcess::ServerProcess(std::vector<std::string> extra_args, const std::string& stderr_path) {
    std::vector<std::string> args = {"--port", "0"};
    if (std::find(extra_args.begin(), extra_args.end(), "--bind") == extra_args.end()) {
        args.insert(args.end(), {"--bind", "127.0.0.1"});
    }
    args.insert(args.end(), extra_args.begin(), extra_args.end());

    Pipe out = make_pipe();
    int err_fd = -1;
    if (!stderr_path.empty()) {
        err_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (err_fd < 0) throw errno_error("open " + stderr_path);
    }
    try {
        pid_ = spawn_server(args, out.write_fd, err_fd);
    } catch (...) {
        ::close(out.read_fd);
        ::close(out.write_fd);
        if (err_fd >= 0) ::close(err_fd);
        throw;
    }
    ::close(out.write_fd);  // the child holds the only write end now: EOF = exit
    if (err_fd >= 0) ::close(err_fd);
    stdout_fd_ = out.read_fd;

    try {
        read_listening_line();
    } catch (...) {
        if (!reaped_) {
            ::kill(pid_, SIGKILL);
            wait_for_exit(pid_, Clock::now() + kGuardTimeout, wait_status_);
        }
        ::close(stdout_fd_);
        throw;
    }
    // Keep draining stdout: a server that logs must never block on a full pipe.
    stdout_forwarder_ = std::thread([fd = stdout_fd_] {
        char chunk[4096];
        for (;;) {
            ssize_t n = ::read(fd, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;
            write_to_stderr(std::string_view(chunk, static_cast<std::size_t>(n)));
        }
    });
}

void ServerProcess::read_listening_line() {
    const auto deadline = Clock::now() + kGuardTimeout;
    std::string pending;
    for (;;) {
        std::size_t eol;
        while ((eol = pending.find('\n')) != std::string::npos) {
            std::string line = pending.substr(0, eol);
            pending.erase(0, eol + 1);
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!line.starts_with(kListeningPrefix)) {
                write_to_stderr(line + "\n");
                continue;
            }
            std::string address = line.substr(kListeningPrefix.size());
            std::size_t colon = address.rfind(':');
            if (colon == std::string::npos) {
                throw std::runtime_error("listening line without a port: " + line);
            }
            host_ = address.substr(0, colon);
            int port = std::atoi(address.c_str() + colon + 1);
            if (port <= 0 || port > 65535) {
                throw std::runtime_error("listening line with a bad port: " + line);
            }
            port_ = static_cast<std::uint16_t>(port);
            write_to_stderr(pending);  // anything printed right after the line
            return;
        }

        pollfd pfd{stdout_fd_, POLLIN, 0};
        int ready = ::poll(&pfd, 1, millis_until(deadline));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) throw errno_error("poll");
        if (ready == 0) {
            throw std::runtime_error("no listening line from the server within " +
                                     std::to_string(kGuardTimeout.count()) + " s");
        }
        char chunk[1024];
        ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int status = 0;
            bool exited = wait_for_exit(pid_, Clock::now() + kGuardTimeout, status);
            if (exited) reaped_ = true;
            throw std::runtime_error(
                "server closed stdout before its listening line (exit status " +
                std::to_string(exited ? decode_wait_status(status) : -1) + ")");
        }
        pending.append(chunk, static_cast<std::size_t>(n));
    }
}

ServerProcess::~ServerProcess() {
    stop();
    ::close(stdout_fd_);
}

bool ServerProcess::wait_until(Clock::time_point deadline) {
    if (!reaped_) reaped_ = wait_for_exit(pid_, deadline, wait_status_);
    return reaped_;
}

bool ServerProcess::is_running() {
    return !wait_until(Clock::now());
}

int ServerProcess::stop() {
    if (!reaped_) {
        ::kill(pid_, SIGTERM);
        if (!wait_until(Clock::now() + kGuardTimeout)) {
            ::kill(pid_, SIGKILL);
            wait_until(Clock::now() + kGuardTimeout);
        }
    }
    if (stdout_forwarder_.joinable()) stdout_forwarder_.join();
    return decode_wait_status(wait_status_);
}

RunResult run_to_exit(const std::vector<std::string>& args) {
    Pipe out = make_pipe();
    Pipe err = make_pipe();
    pid_t pid = -1;
    try {
        pid = spawn_server(args, out.write_fd, err.write_fd);
    } catch (...) {
        for (int fd : {out.read_fd, out.write_fd, err.read_fd, err.write_fd}) ::close(fd);
        throw;
    }
    ::close(out.write_fd);
    ::close(err.write_fd);

    const auto deadline = Clock::now() + kGuardTimeout;
    RunResult result;
    pollfd pfds[2] = {{out.read_fd, POLLIN, 0}, {err.read_fd, POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_pipes = 2;
    while (open_pipes > 0 && Clock::now() < deadline) {
        int ready = ::poll(pfds, 2, millis_until(deadline));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) break;
        for (int i = 0; i < 2; ++i) {
            if (pfds[i].fd < 0 || pfds[i].revents == 0) continue;
            char chunk[4096];
            ssize_t n = ::read(pfds[i].fd, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) continue;
            if (n > 0) {
                sinks[i]->append(chunk, static_cast<std::size_t>(n));
            } else {
                pfds[i].fd = -1;  // poll() skips negative fds
                --open_pipes;
            }
        }
    }
    ::close(out.read_fd);
    ::close(err.read_fd);

    int status = 0;
    if (wait_for_exit(pid, deadline, status)) {
        result.exit_status = decode_wait_status(status);
    } else {
        ::kill(pid, SIGKILL);
        wait_for_exit(pid, Clock::now() + kGuardTimeout, status);
    }
    return result;
}

}  // namespace sse::test
