// Which pattern subscriptions does a topic reach? A tree keyed by segment,
// as message brokers index their bindings:
//
//   (root) --"user"--> n1 --"42"--> n2 --"*"--> n3    a: user.42.*
//                       |           n2 "**" list     b: user.42.**
//                       +--"*"--> n4 --"alerts"--> n5 c: user.*.alerts
//
// Publishing to "user.42.orders" walks only the branches that can match:
// at each depth the child named by the segment and the "*" child, and it
// collects the "**" entries of each node it passes with segments left. So
// the work per publish grows with the patterns it reaches (and their
// depth), never with the subscriptions that cannot match.
//
// Pure: no clock, no sockets. `T` is a pointer-like handle; the index does
// not own what it points to.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sse/topic_pattern.h"

namespace sse {

template <typename T>
class PatternIndex {
public:
    // Adds `value` under `pattern` (a valid pattern, see is_valid_pattern).
    void add(std::string_view pattern, T value) {
        Node* node = &root_;
        std::vector<std::string_view> segments = split_segments(pattern);
        for (std::string_view segment : segments) {
            if (segment == "**") {
                node->one_or_more.push_back(value);
                ++size_;
                return;
            }
            std::unique_ptr<Node>& child = segment == "*" ? node->any : node->children[std::string(segment)];
            if (!child) child = std::make_unique<Node>();
            node = child.get();
        }
        node->exact.push_back(value);
        ++size_;
    }

    // Removes one `value` added under `pattern`, and the branches it leaves
    // empty; harmless if it is not there.
    void remove(std::string_view pattern, T value) {
        std::vector<std::string_view> segments = split_segments(pattern);
        if (remove_at(root_, segments, 0, value)) --size_;
    }

    // Calls visit(value) for every value whose pattern matches the topic
    // `name`. A value added under two matching patterns is visited twice.
    template <typename Visit>
    void visit(std::string_view name, Visit visit) const {
        if (size_ == 0) return;  // the common case: no pattern streams at all
        std::vector<std::string_view> segments = split_segments(name);
        walk(root_, segments, 0, visit);
    }

    // Calls f(value) for every value, once per pattern it was added under.
    template <typename F>
    void for_each(F f) const { each(root_, f); }

    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

private:
    // Finds a child by a string_view segment without building a string.
    struct SegmentHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    struct Node {
        std::unordered_map<std::string, std::unique_ptr<Node>, SegmentHash, std::equal_to<>> children;
        std::unique_ptr<Node> any;      // the "*" segment
        std::vector<T> exact;           // patterns that end here
        std::vector<T> one_or_more;     // patterns "<path>.**" that end here
        bool empty() const { return children.empty() && !any && exact.empty() && one_or_more.empty(); }
    };

    template <typename Visit>
    static void walk(const Node& node, const std::vector<std::string_view>& segments, std::size_t at, Visit& visit) {
        if (at == segments.size()) {
            for (const T& value : node.exact) visit(value);
            return;
        }
        for (const T& value : node.one_or_more) visit(value);  // one or more segments are left
        auto child = node.children.find(segments[at]);
        if (child != node.children.end()) walk(*child->second, segments, at + 1, visit);
        if (node.any) walk(*node.any, segments, at + 1, visit);
    }

    template <typename F>
    static void each(const Node& node, F& f) {
        for (const T& value : node.exact) f(value);
        for (const T& value : node.one_or_more) f(value);
        for (const auto& [segment, child] : node.children) each(*child, f);
        if (node.any) each(*node.any, f);
    }

    static bool erase_one(std::vector<T>& values, const T& value) {
        auto it = std::find(values.begin(), values.end(), value);
        if (it == values.end()) return false;
        *it = values.back();
        values.pop_back();
        return true;
    }

    // Removes value below `node`; true if found. Prunes emptied children.
    static bool remove_at(Node& node, const std::vector<std::string_view>& segments, std::size_t at, const T& value) {
        if (at == segments.size()) return erase_one(node.exact, value);
        if (segments[at] == "**") return erase_one(node.one_or_more, value);
        if (segments[at] == "*") {
            if (!node.any || !remove_at(*node.any, segments, at + 1, value)) return false;
            if (node.any->empty()) node.any.reset();
            return true;
        }
        auto child = node.children.find(segments[at]);
        if (child == node.children.end() || !remove_at(*child->second, segments, at + 1, value)) return false;
        if (child->second->empty()) node.children.erase(child);
        return true;
    }

    Node root_;
    std::size_t size_ = 0;
};

}  // namespace sse
