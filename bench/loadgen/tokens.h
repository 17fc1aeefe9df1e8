// Tokens for private topics: what a stream sends so that a server with
// --jwt-key-file lets it read its topics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "options.h"

namespace sse_load {

class Tokens {
public:
    // Reads --token / --token-file (one token for every stream) or
    // --key-file (a token minted per stream); with none, no header is sent.
    explicit Tokens(const Options& options);

    // The header line(s) a stream on `topics` adds to its GET: "" without a
    // token, else "Authorization: Bearer JWT\r\n". A minted token grants
    // exactly `topics` (names or patterns).
    std::string header_for(const std::vector<std::string>& topics) const;

private:
    std::string token_;    // the given token, if any
    std::string key_;      // the key to mint with, if any
    std::int64_t exp_s_ = 0;  // what minted tokens say in "exp"
};

}  // namespace sse_load
