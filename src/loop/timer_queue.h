// A queue of timers ordered by deadline: the pure core of the scheduler.
//
// TimerQueue never reads a clock: every call that needs the time takes
// `now` (milliseconds on a monotonic clock), so tests drive it with a fake
// clock. The event loop owns one timerfd and arms it for next_deadline().
//
// Timers live in a binary min-heap keyed by (deadline, insertion sequence),
// so timers with equal deadlines fire in the order they were added. Each
// timer knows its heap position, which makes cancel O(log n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace sse {

using Millis = std::int64_t;

// Names one scheduled timer. A default-constructed id names none; cancelling
// an id whose timer already fired or was cancelled does nothing.
struct TimerId {
    std::uint32_t slot = 0;
    std::uint32_t generation = 0;  // 0 means "no timer"
    explicit operator bool() const { return generation != 0; }
};

class TimerQueue {
public:
    using Callback = std::function<void()>;

    // Schedules `callback` to run once `deadline` has come.
    TimerId add(Millis deadline, Callback callback);

    // Removes a pending timer; returns false if it was not pending.
    bool cancel(TimerId id);

    // The earliest pending deadline, or nullopt when nothing is pending.
    std::optional<Millis> next_deadline() const;

    // Runs, in deadline order, every timer whose deadline is <= now.
    // Callbacks may add and cancel timers; a timer added with a deadline
    // <= now runs in this same call. Returns how many ran.
    std::size_t run_due(Millis now);

    std::size_t size() const { return heap_.size(); }

private:
    struct Timer {
        Millis deadline = 0;
        std::uint64_t sequence = 0;
        std::uint32_t generation = 0;     // bumped when the slot is freed
        std::size_t heap_index = 0;
        Callback callback;
    };

    bool earlier(std::size_t heap_a, std::size_t heap_b) const;
    void swap_heap(std::size_t a, std::size_t b);
    void sift_up(std::size_t index);
    void sift_down(std::size_t index);
    void remove_at(std::size_t heap_index);  // frees the slot
    bool is_pending(TimerId id) const;

    std::vector<Timer> slots_;            // timers, addressed by TimerId::slot
    std::vector<std::uint32_t> free_slots_;
    std::vector<std::uint32_t> heap_;     // slot numbers, min-heap
    std::uint64_t next_sequence_ = 0;
};

}  // namespace sse
