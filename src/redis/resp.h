// RESP2, the Redis wire protocol: encoding commands and parsing replies.
// Pure functions over bytes; the Redis connection lives in redis_client.
//
// Replies are parsed in two steps: scan_reply() finds where one complete
// reply ends (skipping bulk payloads by their announced length, so its cost
// grows with the number of elements, not the bytes), and parse_reply() then
// builds the value once. Calling scan_reply() again as bytes arrive is
// therefore cheap even for a large XREAD answer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sse {

// Nesting deeper than this, or more elements than kMaxRespElements in one
// array, is treated as a protocol error (Redis never sends such replies;
// a peer that does is not Redis).
inline constexpr int kMaxRespDepth = 8;
inline constexpr std::int64_t kMaxRespElements = 1'000'000;
inline constexpr std::int64_t kMaxRespBulkBytes = 512 * 1024 * 1024;

struct RespValue {
    enum class Type { SimpleString, Error, Integer, Bulk, Array, Null };
    Type type = Type::Null;
    std::string text;               // SimpleString, Error, Bulk
    std::int64_t integer = 0;       // Integer
    std::vector<RespValue> elements;  // Array

    bool is_error() const { return type == Type::Error; }
    bool is_null() const { return type == Type::Null; }
};

// The command as a RESP array of bulk strings: {"XADD", "k", "*", ...}.
std::string encode_command(const std::vector<std::string_view>& words);

enum class ScanResult { Complete, Incomplete, Error };

// Looks for one complete reply at the start of `input`; on Complete sets
// `length` to its size in bytes.
ScanResult scan_reply(std::string_view input, std::size_t& length);

// Parses the complete reply that scan_reply() measured.
RespValue parse_reply(std::string_view complete_reply);

}  // namespace sse
