// A connection's deadline: the one timer that bounds each phase outside a
// stream (idle, header, body, drain, linger). The rest of Connection is in
// connection.cpp, a stream's own timers in stream.cpp; the contracts are in
// connection.h.
#include "server/connection.h"

#include <algorithm>

namespace sse {

void Connection::set_deadline(Deadline deadline) {
    deadline_ = deadline;
    const Options& options = context_.options;
    Millis delay = 0;
    switch (deadline) {
        case Deadline::None:
            context_.loop.cancel_timer(timer_);
            timer_ = TimerId{};
            deadline_timer_due_ = -1;
            return;
        case Deadline::Idle: delay = options.idle_timeout_ms; break;
        case Deadline::Header: delay = options.header_timeout_ms; break;
        case Deadline::Body: delay = options.body_timeout_ms; break;
        case Deadline::Drain: delay = options.idle_timeout_ms; break;
        case Deadline::Linger: delay = kLingerMs; break;
    }
    deadline_at_ = context_.loop.now() + delay;
    // A keep-alive connection moves its deadline at every request. Moving
    // the timer each time would cost a heap removal and insertion per
    // request, so a timer that fires no later than the new deadline is
    // kept: on_deadline() then finds the deadline moved and re-arms for the
    // rest. Only an earlier deadline (Header after Idle) needs a new timer.
    if (deadline_timer_due_ >= 0 && deadline_timer_due_ <= deadline_at_) return;
    arm_deadline_timer();
}

void Connection::arm_deadline_timer() {
    EventLoop& loop = context_.loop;
    loop.cancel_timer(timer_);
    deadline_timer_due_ = deadline_at_;
    timer_ = loop.add_timer(std::max<Millis>(0, deadline_at_ - loop.now()), [this] { on_deadline(); });
}

void Connection::on_deadline() {
    timer_ = TimerId{};
    deadline_timer_due_ = -1;
    if (context_.loop.now() < deadline_at_) {
        arm_deadline_timer();  // the deadline moved on since the timer was set
        return;
    }
    Deadline expired = deadline_;
    deadline_ = Deadline::None;
    ServerStats& stats = context_.stats;
    switch (expired) {
        case Deadline::Header:
            ++stats.timeouts_header;
            fail(408, "request headers took too long");
            break;
        case Deadline::Body:
            ++stats.timeouts_body;
            fail(408, "request body took too long");
            break;
        case Deadline::Idle: ++stats.timeouts_idle; close(); break;
        case Deadline::Drain: ++stats.timeouts_drain; close(); break;
        case Deadline::Linger:
        case Deadline::None: close(); break;
    }
}

}  // namespace sse
