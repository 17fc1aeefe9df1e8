// The text/event-stream encoder (WHATWG HTML, "Server-sent events").
//
// Every function returns complete, self-contained wire text: an event is
// always whole and ends with the blank line that dispatches it, so nothing a
// publisher sends can leave a stream in the middle of an event.
//
// Safety: data is split on CRLF, LF and lone CR into one "data:" line per
// piece, so a body can never start an "id:", "event:" or "retry:" line of
// its own. Names, ids and comments are single-line by contract; the
// encoder drops CR, LF and NUL from them rather than trust the caller.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sse {

// Retry hints this server sends, from --retry-ms or a publisher's ?retry=:
// 1 ms to a day.
inline constexpr std::uint32_t kMinRetryMs = 1;
inline constexpr std::uint32_t kMaxRetryMs = 86'400'000;

// "id: <id>\nevent: <name>\nretry: <ms>\ndata: ...\n\n". `id` and `name`
// are omitted when empty, the retry line without `retry_ms` (with it, the
// browser waits that long before it reconnects). Empty `data` still yields
// one "data:" line, so the browser dispatches the event (with empty data).
std::string encode_event(std::string_view id, std::string_view name, std::string_view data,
                         std::optional<std::uint32_t> retry_ms = std::nullopt);

// "retry: <ms>\n\n": how long the browser waits before reconnecting.
std::string encode_retry(std::uint32_t retry_ms);

// ": <text>\n\n": a comment, ignored by EventSource; keeps proxies awake.
std::string encode_comment(std::string_view text);

// True when `bytes` is well-formed UTF-8 (no overlongs, no surrogates,
// nothing above U+10FFFF).
bool is_valid_utf8(std::string_view bytes);

}  // namespace sse
