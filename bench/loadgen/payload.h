// The payload: what pub writes as each event's data and sub reads back
// (one line of JSON; the format is in --help).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sse_load {

// `due_ns` is when the schedule (--rate) wanted the event sent, `sent_ns`
// when it was. They differ when the server answered the topic's previous
// event late: latency from `due` then counts that wait too, which latency
// from `t` alone would hide (the "coordinated omission" of a closed-loop
// load generator).
std::string make_payload(std::string_view topic, std::uint64_t seq, std::int64_t due_ns, std::int64_t sent_ns,
                         std::size_t pad);

struct Payload {
    std::string_view topic;  // empty if absent
    std::uint64_t seq = 0;   // 0 if absent
    std::int64_t sent_ns = 0;
    std::int64_t due_ns = 0;  // 0 if absent
};

// Reads the fields back by looking for their keys; a full JSON parser would
// be more code than this whole file and the format is our own. The topic
// is a view into `data`.
Payload read_payload(std::string_view data);

}  // namespace sse_load
