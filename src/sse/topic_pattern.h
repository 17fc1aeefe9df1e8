// Topic patterns: a topic name is '.'-separated segments, and a pattern is
// a name some of whose segments are wildcards:
//
//   *    exactly one segment     user.*.orders   user.42.orders, user.7.orders
//   **   one or more segments,   user.42.**      user.42.orders, user.42.a.b
//        as the last one only                    (never user.42 itself)
//
// A name without wildcards is a pattern that matches itself only. Patterns
// name what a stream follows (/latest/user.42.*), what a token grants, and
// which topics --public leaves open. All pure functions over string views.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sse {

// Patterns per stream, at most (each also counts as one of the stream's
// kMaxTopicsPerStream names).
inline constexpr std::size_t kMaxPatternsPerStream = 16;

// True when `text` is a valid pattern: the characters and length of a topic
// name (see is_valid_topic) plus '*', where every segment holding a '*' is
// exactly "*" or, as the last segment, "**".
bool is_valid_pattern(std::string_view text);
// True when `text` has a wildcard segment (a valid pattern is assumed).
bool has_wildcard(std::string_view text);
// The rule as error messages state it.
std::string pattern_rule();

// Splits at every '.': "a.b" is {"a", "b"}, "a..b" is {"a", "", "b"}.
std::vector<std::string_view> split_segments(std::string_view name);

// True when the topic `name` matches `pattern`.
bool pattern_matches(std::string_view pattern, std::string_view name);

// True when every topic `requested` can match is matched by `grant`: what a
// token granting `grant` may subscribe to. "user.42.**" covers "user.42.*"
// and "user.42.orders"; "user.*" does not cover "user.**".
bool pattern_covers(std::string_view grant, std::string_view requested);

// True when some topic matches both `a` and `b`.
bool patterns_overlap(std::string_view a, std::string_view b);

// True when any of `grants` covers `requested`.
bool any_covers(const std::vector<std::string>& grants, std::string_view requested);

}  // namespace sse
