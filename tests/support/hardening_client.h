// Client-side tools for the hardening tests, where the peer misbehaves on
// purpose (the socket itself is client.h's Connection, which can set a
// small receive window, half-close and send past a server's hang-up): a
// parser for every response in a captured byte string, a retry loop for
// states the server reaches on its own, and facts about the kernel.
//
// Like client.h, every wait takes a deadline that guards against a hung
// server and is never asserted on.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "client.h"

namespace sse::test {

// Every complete response in `bytes`, in order (bodies delimited by
// Content-Length; 1xx, 204 and 304 have none; a response without a length
// takes the rest). Throws std::runtime_error on a malformed or cut response.
std::vector<Response> parse_responses(std::string_view bytes);

// Calls `attempt` until it returns true or `deadline` passes, pausing
// `pause` between tries; returns the last result. For states the server
// reaches on its own (a close noticed, a subscription removed), which a
// test can only observe by asking again.
bool retry_until(const std::function<bool()>& attempt, Deadline deadline = deadline_in(kGuardTimeout),
                 std::chrono::milliseconds pause = std::chrono::milliseconds(20));

// The most a socket's kernel send buffer grows to (the last field of
// /proc/sys/net/ipv4/tcp_wmem; 4 MiB if unreadable). A backlog bigger than
// twice this cannot all leave the server's user-space buffer for a peer
// that never reads.
std::size_t kernel_send_buffer_max();

// The number after "subscribers": in `json`, or -1 when absent.
long subscribers_in(const std::string& json);

}  // namespace sse::test
