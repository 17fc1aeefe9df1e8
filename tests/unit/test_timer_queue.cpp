// TimerQueue with an injected clock: order, ties, cancel, re-entrancy.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "loop/timer_queue.h"

using sse::Millis;
using sse::TimerId;
using sse::TimerQueue;

TEST_CASE("timers fire in deadline order, only once due") {
    TimerQueue queue;
    std::string fired;
    queue.add(30, [&] { fired += 'c'; });
    queue.add(10, [&] { fired += 'a'; });
    queue.add(20, [&] { fired += 'b'; });
    CHECK(queue.next_deadline() == 10);

    CHECK(queue.run_due(9) == 0);
    CHECK(fired.empty());
    CHECK(queue.run_due(20) == 2);
    CHECK(fired == "ab");
    CHECK(queue.next_deadline() == 30);
    queue.run_due(1000);
    CHECK(fired == "abc");
    CHECK_FALSE(queue.next_deadline().has_value());
    CHECK(queue.size() == 0);
}

TEST_CASE("equal deadlines fire in insertion order") {
    TimerQueue queue;
    std::vector<int> fired;
    for (int i = 0; i < 50; ++i) queue.add(100, [&fired, i] { fired.push_back(i); });
    queue.run_due(100);
    REQUIRE(fired.size() == 50);
    for (int i = 0; i < 50; ++i) CHECK(fired[i] == i);
}

TEST_CASE("cancel removes a pending timer and ignores stale ids") {
    TimerQueue queue;
    std::string fired;
    TimerId a = queue.add(10, [&] { fired += 'a'; });
    TimerId b = queue.add(20, [&] { fired += 'b'; });
    queue.add(30, [&] { fired += 'c'; });

    CHECK(queue.cancel(b));
    CHECK_FALSE(queue.cancel(b));           // already cancelled
    CHECK_FALSE(queue.cancel(TimerId{}));   // names no timer
    queue.run_due(15);
    CHECK_FALSE(queue.cancel(a));           // already fired

    // A new timer may reuse a freed slot; the old id must not cancel it.
    TimerId d = queue.add(40, [&] { fired += 'd'; });
    CHECK((d.slot == a.slot || d.slot == b.slot));
    CHECK_FALSE(queue.cancel(a));
    CHECK_FALSE(queue.cancel(b));
    queue.run_due(100);
    CHECK(fired == "acd");
}

TEST_CASE("callbacks may add and cancel timers while running") {
    TimerQueue queue;
    std::string fired;
    TimerId later;
    queue.add(10, [&] {
        fired += 'a';
        queue.add(10, [&] { fired += 'n'; });   // already due: runs in this pass
        queue.cancel(later);
    });
    later = queue.add(20, [&] { fired += 'x'; });
    queue.add(50, [&] { fired += 'z'; });
    queue.run_due(30);
    CHECK(fired == "an");
    queue.run_due(50);
    CHECK(fired == "anz");
}

TEST_CASE("random adds and cancels keep heap order") {
    TimerQueue queue;
    std::mt19937 rng(42);
    std::vector<TimerId> ids;
    std::vector<Millis> fired;
    int expected = 0;
    for (int i = 0; i < 2000; ++i) {
        Millis deadline = rng() % 500;
        ids.push_back(queue.add(deadline, [&fired, deadline] { fired.push_back(deadline); }));
        ++expected;
        if (rng() % 3 == 0) {
            if (queue.cancel(ids[rng() % ids.size()])) --expected;
        }
    }
    queue.run_due(1000);
    CHECK(static_cast<int>(fired.size()) == expected);
    for (std::size_t i = 1; i < fired.size(); ++i) REQUIRE(fired[i - 1] <= fired[i]);
}
