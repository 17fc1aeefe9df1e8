#include "loop/timer_queue.h"

#include <utility>

namespace sse {

TimerId TimerQueue::add(Millis deadline, Callback callback) {
    std::uint32_t slot;
    if (!free_slots_.empty()) {
        slot = free_slots_.back();
        free_slots_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(slots_.size());
        slots_.push_back(Timer{});
    }
    Timer& timer = slots_[slot];
    timer.deadline = deadline;
    timer.sequence = next_sequence_++;
    if (++timer.generation == 0) timer.generation = 1;  // 0 is reserved for "none"
    timer.callback = std::move(callback);
    timer.heap_index = heap_.size();
    heap_.push_back(slot);
    sift_up(timer.heap_index);
    return TimerId{slot, timer.generation};
}

bool TimerQueue::is_pending(TimerId id) const {
    if (!id || id.slot >= slots_.size()) return false;
    const Timer& timer = slots_[id.slot];
    return timer.generation == id.generation && timer.heap_index < heap_.size() &&
           heap_[timer.heap_index] == id.slot;
}

bool TimerQueue::cancel(TimerId id) {
    if (!is_pending(id)) return false;
    remove_at(slots_[id.slot].heap_index);
    return true;
}

std::optional<Millis> TimerQueue::next_deadline() const {
    if (heap_.empty()) return std::nullopt;
    return slots_[heap_.front()].deadline;
}

std::size_t TimerQueue::run_due(Millis now) {
    std::size_t ran = 0;
    while (!heap_.empty() && slots_[heap_.front()].deadline <= now) {
        // Move the callback out before freeing the slot: the callback may
        // add a timer that reuses this very slot.
        Callback callback = std::move(slots_[heap_.front()].callback);
        remove_at(0);
        callback();
        ++ran;
    }
    return ran;
}

bool TimerQueue::earlier(std::size_t heap_a, std::size_t heap_b) const {
    const Timer& a = slots_[heap_[heap_a]];
    const Timer& b = slots_[heap_[heap_b]];
    if (a.deadline != b.deadline) return a.deadline < b.deadline;
    return a.sequence < b.sequence;
}

void TimerQueue::swap_heap(std::size_t a, std::size_t b) {
    std::swap(heap_[a], heap_[b]);
    slots_[heap_[a]].heap_index = a;
    slots_[heap_[b]].heap_index = b;
}

void TimerQueue::sift_up(std::size_t index) {
    while (index > 0) {
        std::size_t parent = (index - 1) / 2;
        if (!earlier(index, parent)) break;
        swap_heap(index, parent);
        index = parent;
    }
}

void TimerQueue::sift_down(std::size_t index) {
    for (;;) {
        std::size_t smallest = index;
        std::size_t left = 2 * index + 1;
        std::size_t right = left + 1;
        if (left < heap_.size() && earlier(left, smallest)) smallest = left;
        if (right < heap_.size() && earlier(right, smallest)) smallest = right;
        if (smallest == index) return;
        swap_heap(index, smallest);
        index = smallest;
    }
}

void TimerQueue::remove_at(std::size_t heap_index) {
    std::uint32_t slot = heap_[heap_index];
    std::size_t last = heap_.size() - 1;
    if (heap_index != last) {
        swap_heap(heap_index, last);
    }
    heap_.pop_back();
    if (heap_index < heap_.size()) {
        // The element moved into the hole may belong above or below it.
        sift_up(heap_index);
        sift_down(slots_[heap_[heap_index]].heap_index);
    }
    Timer& timer = slots_[slot];
    timer.callback = nullptr;
    timer.heap_index = static_cast<std::size_t>(-1);
    free_slots_.push_back(slot);
}

}  // namespace sse
