#include "loop/event_loop.h"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

namespace sse {

namespace {

std::uint64_t monotonic_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace

std::uint64_t wall_clock_ms() {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

Millis monotonic_ms() {
    return static_cast<Millis>(monotonic_ns() / 1'000'000u);
}

std::unique_ptr<EventLoop> EventLoop::create(std::string& error) {
    int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0) {
        error = std::string("epoll_create1: ") + std::strerror(errno);
        return nullptr;
    }
    int timer_fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer_fd < 0) {
        error = std::string("timerfd_create: ") + std::strerror(errno);
        ::close(epoll_fd);
        return nullptr;
    }
    std::unique_ptr<EventLoop> loop(new EventLoop(epoll_fd, timer_fd));
    if (!loop->watch(timer_fd, EPOLLIN, [raw = loop.get()](std::uint32_t) { raw->on_timerfd(); })) {
        error = std::string("epoll_ctl(timerfd): ") + std::strerror(errno);
        return nullptr;
    }
    return loop;
}

EventLoop::EventLoop(int epoll_fd, int timer_fd)
    : epoll_fd_(epoll_fd), timer_fd_(timer_fd), now_(monotonic_ms()) {}

EventLoop::~EventLoop() {
    ::close(timer_fd_);
    ::close(epoll_fd_);
}

bool EventLoop::watch(int fd, std::uint32_t events, IoHandler handler) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) return false;
    if (static_cast<std::size_t>(fd) >= handlers_.size()) handlers_.resize(fd + 1);
    handlers_[fd] = std::move(handler);
    return true;
}

bool EventLoop::modify(int fd, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    return ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event) == 0;
}

void EventLoop::unwatch(int fd) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    unwatch_closing(fd);
}

void EventLoop::unwatch_closing(int fd) {
    if (static_cast<std::size_t>(fd) < handlers_.size()) handlers_[fd] = nullptr;
}

TimerId EventLoop::add_timer(Millis delay, TimerQueue::Callback callback) {
    return timers_.add(now_ + delay, std::move(callback));
}

void EventLoop::cancel_timer(TimerId id) {
    timers_.cancel(id);
}

void EventLoop::arm_timerfd() {
    std::optional<Millis> next = timers_.next_deadline();
    Millis wanted = next ? *next : -1;
    if (wanted == armed_deadline_) return;  // spare the syscall
    itimerspec spec{};
    if (next) {
        // An absolute deadline of 0 would disarm the timer; 1 ns is "now".
        Millis at = *next > 0 ? *next : 0;
        spec.it_value.tv_sec = at / 1000;
        spec.it_value.tv_nsec = (at % 1000) * 1'000'000 + 1;
    }
    ::timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
    armed_deadline_ = wanted;
}

void EventLoop::on_timerfd() {
    std::uint64_t expirations;
    while (::read(timer_fd_, &expirations, sizeof expirations) < 0 && errno == EINTR) {
    }
    armed_deadline_ = -1;  // it fired: re-arm on the next iteration
    timers_.run_due(now_);
}

bool EventLoop::run() {
    stopped_ = false;
    while (!stopped_) {
        if (!run_once(-1)) return false;
    }
    return true;
}

bool EventLoop::run_once(int timeout_ms) {
    std::uint64_t busy_start = monotonic_ns();
    bool more_work = before_sleep_ ? before_sleep_() : false;
    if (stopped_) return true;  // the hook may stop the loop: do not sleep then
    arm_timerfd();
    busy_ns_ += monotonic_ns() - busy_start;

    epoll_event events[kMaxEventsPerWait];
    int ready = ::epoll_wait(epoll_fd_, events, kMaxEventsPerWait, more_work ? 0 : timeout_ms);
    busy_start = monotonic_ns();
    now_ = static_cast<Millis>(busy_start / 1'000'000u);
    if (ready < 0) return errno == EINTR;
    for (int i = 0; i < ready; ++i) {
        int fd = events[i].data.fd;
        // A handler earlier in this batch may have unwatched this fd.
        if (static_cast<std::size_t>(fd) < handlers_.size() && handlers_[fd]) {
            IoHandler& handler = handlers_[fd];
            handler(events[i].events);
        }
    }
    busy_ns_ += monotonic_ns() - busy_start;
    return true;
}

}  // namespace sse
