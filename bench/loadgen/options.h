// The command line: the mode to run and every option (see --help).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sse_load {

enum class Mode { Sub, Pub, Churn };

struct Options {
    Mode mode = Mode::Sub;
    std::string url;                             // required; see --help
    double duration_s = 10;                      // hard bound for every mode
    std::vector<std::string> topics{"bench"};    // the topic pool
    std::string topic_template;                  // the pool is this with {n} = 0 .. topic_count-1
    std::size_t topic_count = 0;
    std::size_t sources = 16;                    // loopback source addresses
    std::string first_source = "127.0.0.1";      // the first of them
    bool quiet = false;                          // no progress lines
    std::string label;                           // copied into the JSON summary
    // sub
    std::size_t streams = 100;
    std::size_t per_stream = 1;                  // topics per stream, from the pool
    std::uint64_t expect = 0;                    // events per stream; 0: no goal
    std::size_t connect_concurrency = 500;       // connections not yet streaming
    double connect_rate = 0;                     // new connections per second; 0: no cap
    std::string ready_file;
    std::string status_file;                     // counts and latencies, rewritten every second
    bool reconnect = false;                      // reopen ended streams with Last-Event-ID
    // sub and churn: the token each stream sends (see tokens.h)
    std::string token;                           // --token, --token-file: the same for every stream
    std::string token_key;                       // --key-file: mint one per stream with this HS256 key
    // churn
    std::size_t concurrency = 50;
    std::uint64_t cycles = 0;                    // 0: until --duration
    // pub
    std::uint64_t events = 100;
    double rate = 0;                             // events per second; 0: closed loop
    std::size_t connections = 1;
    std::size_t size = 0;                        // padding bytes per event
    std::uint64_t first_seq = 1;                 // each topic's first seq
    bool random_topics = false;                  // pick each event's topic at random from the pool
};

// Parses argv. Prints the usage and exits for --help (status 0) or no
// arguments (status 2); dies (status 2) on a bad mode, option or value.
Options parse_options(int argc, char** argv);

}  // namespace sse_load
