// A connection's timers: the deadline that bounds each phase outside a
// stream (idle, header, body, drain, linger) and the stall watch that drops
// a stream whose socket stays full. The rest of Connection is in
// connection.cpp; the contracts are in connection.h.
#include "connection.h"

#include <algorithm>

#include "server.h"

namespace sse {

void Connection::set_deadline(Deadline deadline) {
    deadline_ = deadline;
    const Options& options = server_.options();
    Millis delay = 0;
    switch (deadline) {
        case Deadline::None:
            server_.loop().cancel_timer(timer_);
            timer_ = TimerId{};
            deadline_timer_due_ = -1;
            return;
        case Deadline::Idle: delay = options.idle_timeout_ms; break;
        case Deadline::Header: delay = options.header_timeout_ms; break;
        case Deadline::Body: delay = options.body_timeout_ms; break;
        case Deadline::Drain: delay = options.idle_timeout_ms; break;
        case Deadline::Linger: delay = kLingerMs; break;
    }
    deadline_at_ = server_.loop().now() + delay;
    // A keep-alive connection moves its deadline at every request. Moving
    // the timer each time would cost a heap removal and insertion per
    // request, so a timer that fires no later than the new deadline is
    // kept: on_deadline() then finds the deadline moved and re-arms for the
    // rest. Only an earlier deadline (Header after Idle) needs a new timer.
    if (deadline_timer_due_ >= 0 && deadline_timer_due_ <= deadline_at_) return;
    arm_deadline_timer();
}

void Connection::arm_deadline_timer() {
    EventLoop& loop = server_.loop();
    loop.cancel_timer(timer_);
    deadline_timer_due_ = deadline_at_;
    timer_ = loop.add_timer(std::max<Millis>(0, deadline_at_ - loop.now()), [this] { on_deadline(); });
}

void Connection::on_deadline() {
    timer_ = TimerId{};
    deadline_timer_due_ = -1;
    if (server_.loop().now() < deadline_at_) {
        arm_deadline_timer();  // the deadline moved on since the timer was set
        return;
    }
    Deadline expired = deadline_;
    deadline_ = Deadline::None;
    server_.count_timeout(expired);
    switch (expired) {
        case Deadline::Header: fail(408, "request headers took too long"); break;
        case Deadline::Body: fail(408, "request body took too long"); break;
        case Deadline::Idle:
        case Deadline::Drain:
        case Deadline::Linger:
        case Deadline::None: server_.close_later(*this); break;
    }
}

void Connection::watch_for_stall() {
    if (stall_timer_) return;  // already watching: progress is checked then
    std::uint64_t sent = bytes_sent_;
    stall_timer_ = server_.loop().add_timer(server_.options().idle_timeout_ms, [this, sent] { check_stall(sent); });
}

void Connection::check_stall(std::uint64_t sent_when_armed) {
    stall_timer_ = TimerId{};
    if (!want_write_ || phase_ != Phase::Stream) return;
    if (bytes_sent_ == sent_when_armed) {
        ++server_.stats().slow_subscriber_drops;
        abort();
        return;
    }
    watch_for_stall();  // it moved, slowly: look again later
}

}  // namespace sse
