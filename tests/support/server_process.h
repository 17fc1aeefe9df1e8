// Starting the real sse-server binary for integration tests.
//
// ServerProcess runs one server on an ephemeral loopback port and knows when
// it is ready: it waits for the line "sse-server listening on http://HOST:PORT"
// on the server's stdout instead of sleeping and hoping. run_to_exit() runs
// the binary for command-line tests (--help, bad flags) and collects what it
// printed.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace sse::test {

// Every wait in the support library gives up after this long. It is a guard
// against a hung server, never a measurement: tests do not assert on time.
inline constexpr std::chrono::seconds kGuardTimeout{10};

// The server binary: $SSE_SERVER_BIN, or "./sse-server" (tests run from the
// repository root).
std::string server_binary_path();

// Exit status in the shell's convention: the exit code for a normal exit,
// 128 + signal number when a signal ended the process.
int decode_wait_status(int wait_status);

class ServerProcess {
public:
    // Spawns `sse-server --port 0 --bind 127.0.0.1 <extra_args...>` and waits
    // (at most kGuardTimeout) for its listening line. When `extra_args`
    // contains "--bind", the default bind address is left out. Throws
    // std::runtime_error when the server exits or stays silent instead.
    // The server's stderr goes to the test's stderr, or to the file
    // `stderr_path` (created or emptied) when one is given; its stdout goes
    // to the test's stderr after the listening line.
    explicit ServerProcess(std::vector<std::string> extra_args = {}, const std::string& stderr_path = "");
    ~ServerProcess();

    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    std::uint16_t port() const { return port_; }
    // The server's process id, to signal it directly.
    pid_t pid() const { return pid_; }
    // The host part of the listening line, e.g. "127.0.0.1" or "[::1]".
    const std::string& host() const { return host_; }

    // False once the process has exited (it is then reaped).
    bool is_running();

    // Sends SIGTERM, waits for the exit (SIGKILL after kGuardTimeout) and
    // returns the exit status (see decode_wait_status). Calling it again
    // returns the same status.
    int stop();

private:
    // Waits for the child until `deadline`; true when it has been reaped.
    bool wait_until(std::chrono::steady_clock::time_point deadline);
    void read_listening_line();

    pid_t pid_ = -1;
    int stdout_fd_ = -1;          // read end of the child's stdout pipe
    std::thread stdout_forwarder_;  // copies later stdout to our stderr
    bool reaped_ = false;
    int wait_status_ = 0;
    std::string host_;
    std::uint16_t port_ = 0;
};

// What a short-lived run of the binary printed, and how it ended.
struct RunResult {
    int exit_status = -1;  // as decode_wait_status(); -1 if it had to be killed
    std::string out;       // everything written to stdout
    std::string err;       // everything written to stderr
};

// Runs the server binary with exactly `args` and waits for it to exit. A
// process still running after kGuardTimeout is killed (exit_status -1).
RunResult run_to_exit(const std::vector<std::string>& args);

}  // namespace sse::test
