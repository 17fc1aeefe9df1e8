// Who has been quiet the longest: an intrusive list ordered by last activity.
//
// Heartbeats must stay cheap with 100,000 idle streams. Each stream is a
// node in one doubly linked list; whenever it sends something it moves to
// the tail (O(1)), so the list is always ordered from longest-quiet to most
// recently active. A periodic pass then looks only at the head and stops at
// the first node that is not due: its work grows with the streams actually
// due, never with every open stream.
#pragma once

#include <cstddef>

#include "loop/timer_queue.h"

namespace sse {

// Embedded in whatever is tracked; `owner` points back to it.
struct ActivityNode {
    ActivityNode* prev = nullptr;
    ActivityNode* next = nullptr;
    Millis last_active = 0;
    bool linked = false;
    void* owner = nullptr;
};

class ActivityList {
public:
    // Records activity at `now` and moves the node to the tail (links it
    // if needed). `now` must not go backwards between calls.
    void touch(ActivityNode& node, Millis now);
    // Unlinks the node; harmless if it is not linked.
    void remove(ActivityNode& node);

    // The node quiet for the longest, or nullptr when empty.
    ActivityNode* oldest() const { return head_; }
    bool empty() const { return head_ == nullptr; }
    std::size_t size() const { return size_; }

    // Calls visit(node) for every node quiet since `now - idle` or longer,
    // oldest first. Each due node is touched at `now` (moved to the tail)
    // before visit sees it, so it is due again one `idle` later whatever
    // visit does: visit may remove() it, or leave it alone. (Touching first
    // is what makes a lone node come round again: the list alone, not the
    // visitor, keeps the period.) Returns how many were visited.
    template <typename Visit>
    std::size_t visit_idle(Millis now, Millis idle, Visit visit) {
        std::size_t visited = 0;
        while (head_ && head_->last_active + idle <= now) {
            ActivityNode* node = head_;
            touch(*node, now);
            visit(*node);
            ++visited;
        }
        return visited;
    }

private:
    ActivityNode* head_ = nullptr;
    ActivityNode* tail_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace sse
