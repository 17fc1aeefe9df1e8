// The event loop: one thread, one epoll instance, level-triggered.
//
// The loop has few verbs: watch/modify/unwatch a file descriptor with a
// handler, add/cancel a timer, and one before-sleep hook. Timers are kept in
// a TimerQueue and share a single timerfd, armed for the earliest deadline.
//
// One iteration:  before_sleep() -> arm timerfd -> epoll_wait -> now_ = clock
//                 -> run the handler of each ready fd (timers included).
// The before-sleep hook is where queued output is written: handlers only
// queue bytes, so everything queued during one iteration leaves together.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "loop/timer_queue.h"

namespace sse {

// Milliseconds on CLOCK_MONOTONIC (never jumps with the wall clock).
Millis monotonic_ms();
// Milliseconds since the Unix epoch on the wall clock (event ids carry it).
std::uint64_t wall_clock_ms();
// The same in whole seconds (what token claims count in).
inline std::int64_t wall_clock_s() { return static_cast<std::int64_t>(wall_clock_ms() / 1000); }

class EventLoop {
public:
    using IoHandler = std::function<void(std::uint32_t events)>;
    // Returns true when it left work undone, so the loop must not block.
    using BeforeSleep = std::function<bool()>;

    // Creates the epoll instance and the timerfd. Returns nullptr and sets
    // `error` (with the errno text) on failure.
    static std::unique_ptr<EventLoop> create(std::string& error);
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Registers `fd` for `events` (EPOLLIN, EPOLLOUT, ...). The loop does not
    // own the fd: whoever watches it unwatches it before closing it. A
    // handler must not unwatch its own fd while it runs (defer the close).
    bool watch(int fd, std::uint32_t events, IoHandler handler);
    bool modify(int fd, std::uint32_t events);
    void unwatch(int fd);
    // As unwatch, for an fd its owner closes right away and that no other
    // descriptor shares (no dup, no fork): closing the last reference to a
    // file removes it from every epoll set, so the EPOLL_CTL_DEL is skipped
    // and only the handler is dropped. One system call less per connection.
    void unwatch_closing(int fd);

    // Runs `callback` once, `delay` ms after the current iteration's now().
    TimerId add_timer(Millis delay, TimerQueue::Callback callback);
    void cancel_timer(TimerId id);

    void set_before_sleep(BeforeSleep hook) { before_sleep_ = std::move(hook); }

    // Runs until stop(). Returns false if epoll itself failed.
    bool run();
    // Runs one iteration, waiting at most `timeout_ms` for events (-1: no
    // limit). For tests and fuzzers that drive the loop step by step.
    // Returns false if epoll itself failed.
    bool run_once(int timeout_ms);
    void stop() { stopped_ = true; }

    // The time at the start of the current iteration: cached, because
    // reading the clock for every timer and every event costs for nothing.
    Millis now() const { return now_; }

    // Nanoseconds spent outside epoll_wait since the loop started.
    std::uint64_t busy_ns() const { return busy_ns_; }

    // The most events one epoll_wait returns; the rest wait for the next one.
    static constexpr int kMaxEventsPerWait = 256;

private:
    EventLoop(int epoll_fd, int timer_fd);
    void arm_timerfd();
    void on_timerfd();

    int epoll_fd_;
    int timer_fd_;
    // Indexed by fd. A deque, because growing it must not move a handler
    // that is running (the accept handler adds fds while it runs).
    std::deque<IoHandler> handlers_;
    TimerQueue timers_;
    Millis armed_deadline_ = -1;        // what timer_fd_ is set for, -1: nothing
    BeforeSleep before_sleep_;
    Millis now_ = 0;
    bool stopped_ = false;
    std::uint64_t busy_ns_ = 0;
};

}  // namespace sse
