// Sequence tracking: which events of a topic a stream missed, got twice or
// got out of order. Pure bookkeeping, no sockets.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sse_load {

struct SequenceCounts {
    std::uint64_t missing = 0;
    std::uint64_t duplicated = 0;
    std::uint64_t out_of_order = 0;
};

// What one stream has seen of one topic. A topic's events must arrive as
// seq 1, 2, 3, ... A jump leaves holes; a hole filled later is out of order,
// a seq seen before is a duplicate. Holes are remembered one by one up to
// kMaxHoles per track; beyond that they are only counted (so a late arrival
// of one of those would then be taken for a duplicate).
struct SequenceTrack {
    static constexpr std::size_t kMaxHoles = 4096;

    explicit SequenceTrack(std::uint32_t topic_id) : topic(topic_id) {}

    std::uint32_t topic;
    std::uint64_t highest = 0;
    std::vector<std::uint64_t> holes;
    std::uint64_t uncounted_holes = 0;

    void observe(std::uint64_t seq, SequenceCounts& counts) {
        if (seq == highest + 1) {
            highest = seq;
        } else if (seq > highest) {
            for (std::uint64_t s = highest + 1; s < seq; ++s) {
                if (holes.size() < kMaxHoles) holes.push_back(s);
                else ++uncounted_holes;
            }
            highest = seq;
        } else if (auto hole = std::find(holes.begin(), holes.end(), seq); hole != holes.end()) {
            holes.erase(hole);
            ++counts.out_of_order;
        } else {
            ++counts.duplicated;
        }
    }

    // Missing at the end: the holes, plus the tail that some other stream of
    // the same topic got (`topic_highest`) and this one did not.
    std::uint64_t missing(std::uint64_t topic_highest) const {
        return holes.size() + uncounted_holes + (topic_highest > highest ? topic_highest - highest : 0);
    }
};

// Topic names to small integers, shared by all streams of a run.
class TopicTable {
public:
    std::uint32_t id(std::string_view name) {
        auto found = ids_.find(name);
        if (found != ids_.end()) return found->second;
        auto id = static_cast<std::uint32_t>(highest_.size());
        ids_.emplace(name, id);
        highest_.push_back(0);
        return id;
    }
    void saw(std::uint32_t topic, std::uint64_t seq) { highest_[topic] = std::max(highest_[topic], seq); }
    std::uint64_t highest(std::uint32_t topic) const { return highest_[topic]; }

private:
    // Transparent hashing: find() takes a string_view, so the per-event
    // lookup allocates nothing.
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
    };
    std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> ids_;
    std::vector<std::uint64_t> highest_;  // the highest seq any stream saw, per topic
};

}  // namespace sse_load
