// Topic patterns; the contracts are in topic_pattern.h.
#include "sse/topic_pattern.h"

#include "sse/hub.h"

namespace sse {

namespace {

constexpr std::string_view kOne = "*";
constexpr std::string_view kMany = "**";

// Walks a name segment by segment without allocating: matching runs for
// every stream set up with a token, so it should cost no more than a
// string comparison.
class Segments {
public:
    explicit Segments(std::string_view name) : rest_(name) {}
    // The next segment, or false after the last.
    bool next(std::string_view& segment) {
        if (done_) return false;
        std::size_t dot = rest_.find('.');
        segment = rest_.substr(0, dot);
        if (dot == std::string_view::npos) done_ = true;
        else rest_.remove_prefix(dot + 1);
        return true;
    }

private:
    std::string_view rest_;
    bool done_ = false;
};

}  // namespace

std::vector<std::string_view> split_segments(std::string_view name) {
    std::vector<std::string_view> segments;
    while (true) {
        std::size_t dot = name.find('.');
        segments.push_back(name.substr(0, dot));
        if (dot == std::string_view::npos) return segments;
        name.remove_prefix(dot + 1);
    }
}

bool is_valid_pattern(std::string_view text) {
    if (text.empty() || text.size() > kMaxTopicChars) return false;
    std::vector<std::string_view> segments = split_segments(text);
    for (std::size_t i = 0; i < segments.size(); ++i) {
        std::string_view segment = segments[i];
        if (segment == kOne || (segment == kMany && i + 1 == segments.size())) continue;
        // Any other segment is part of a topic name: no '*' in it. (An
        // empty segment is allowed, as in topic names.)
        if (segment.find('*') != std::string_view::npos) return false;
        if (!segment.empty() && !is_valid_topic(segment)) return false;
    }
    return true;
}

bool has_wildcard(std::string_view text) {
    return text.find('*') != std::string_view::npos;
}

std::string pattern_rule() {
    return topic_name_rule() + ", '.' between segments; a segment may be * (one segment) or, last, ** (one or more)";
}

bool pattern_matches(std::string_view pattern, std::string_view name) {
    Segments want(pattern), have(name);
    std::string_view w, h;
    while (want.next(w)) {
        if (w == kMany) return have.next(h);  // one or more left
        if (!have.next(h)) return false;
        if (w != kOne && w != h) return false;
    }
    return !have.next(h);
}

bool pattern_covers(std::string_view grant, std::string_view requested) {
    // Segment by segment: a grant's "*" covers any single segment (a name
    // or a "*"), its "**" covers whatever is left as long as one segment
    // is; a name covers only itself. A requested "**" needs a "**".
    Segments g(grant), r(requested);
    std::string_view a, b;
    while (g.next(a)) {
        if (a == kMany) return r.next(b);
        if (!r.next(b) || b == kMany) return false;
        if (a != kOne && a != b) return false;
    }
    return !r.next(b);
}

bool patterns_overlap(std::string_view a, std::string_view b) {
    std::vector<std::string_view> x = split_segments(a);
    std::vector<std::string_view> y = split_segments(b);
    for (std::size_t i = 0;; ++i) {
        // A "**" takes whatever the other has left, if it has anything left.
        if (i < x.size() && x[i] == kMany) return i < y.size();
        if (i < y.size() && y[i] == kMany) return i < x.size();
        if (i == x.size() || i == y.size()) return x.size() == y.size();
        if (x[i] != kOne && y[i] != kOne && x[i] != y[i]) return false;
    }
}

bool any_covers(const std::vector<std::string>& grants, std::string_view requested) {
    for (const std::string& grant : grants)
        if (pattern_covers(grant, requested)) return true;
    return false;
}

}  // namespace sse
