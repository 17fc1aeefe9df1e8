#include "server/activity_list.h"

namespace sse {

void ActivityList::touch(ActivityNode& node, Millis now) {
    node.last_active = now;
    if (node.linked && tail_ == &node) return;
    remove(node);
    node.prev = tail_;
    node.next = nullptr;
    if (tail_) tail_->next = &node;
    else head_ = &node;
    tail_ = &node;
    node.linked = true;
    ++size_;
}

void ActivityList::remove(ActivityNode& node) {
    if (!node.linked) return;
    if (node.prev) node.prev->next = node.next;
    else head_ = node.next;
    if (node.next) node.next->prev = node.prev;
    else tail_ = node.prev;
    node.prev = node.next = nullptr;
    node.linked = false;
    --size_;
}

}  // namespace sse
