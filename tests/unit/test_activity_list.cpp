// ActivityList: ordering by last activity and visiting only the due nodes.
#include <doctest/doctest.h>

#include <vector>

#include "server/activity_list.h"

using sse::ActivityList;
using sse::ActivityNode;

TEST_CASE("touch keeps the list ordered from quietest to most recent") {
    ActivityList list;
    ActivityNode a, b, c;
    list.touch(a, 10);
    list.touch(b, 20);
    list.touch(c, 30);
    CHECK(list.oldest() == &a);
    list.touch(a, 40);  // a spoke last: b is now the quietest
    CHECK(list.oldest() == &b);
    CHECK(list.size() == 3);
    list.remove(b);
    list.remove(b);  // harmless twice
    CHECK(list.oldest() == &c);
    CHECK(list.size() == 2);
    list.remove(c);
    list.remove(a);
    CHECK(list.empty());
}

TEST_CASE("visit_idle visits exactly the due nodes, oldest first") {
    ActivityList list;
    std::vector<ActivityNode> nodes(100);
    for (int i = 0; i < 100; ++i) list.touch(nodes[i], i);  // node i active at i ms

    std::vector<ActivityNode*> visited;
    // At now=1050 with idle=1000, nodes active at <= 50 are due: 51 nodes.
    std::size_t count = list.visit_idle(1050, 1000, [&](ActivityNode& node) {
        visited.push_back(&node);
        list.touch(node, 1050);  // "sent a heartbeat"
    });
    CHECK(count == 51);
    REQUIRE(visited.size() == 51);
    for (int i = 0; i < 51; ++i) CHECK(visited[i] == &nodes[i]);
    CHECK(list.oldest() == &nodes[51]);  // the first node that was not due
    CHECK(list.size() == 100);

    // Asked again at the same moment, nothing is due: no node is visited.
    CHECK(list.visit_idle(1050, 1000, [&](ActivityNode&) { FAIL("not due"); }) == 0);
}

TEST_CASE("a visitor that does nothing still sees each node once per idle period") {
    ActivityList list;
    ActivityNode a, b;
    list.touch(a, 0);
    list.touch(b, 0);
    CHECK(list.visit_idle(100, 10, [](ActivityNode&) {}) == 2);
    CHECK(list.size() == 2);
    CHECK(list.visit_idle(105, 10, [](ActivityNode&) {}) == 0);  // touched at 100: not due before 110
    CHECK(list.visit_idle(110, 10, [](ActivityNode&) {}) == 2);
}

TEST_CASE("a lone node is due again every idle period, for as long as it is linked") {
    // One quiet stream: it must get a heartbeat every period, not just the first.
    ActivityList list;
    ActivityNode lone;
    list.touch(lone, 0);
    for (int period = 1; period <= 6; ++period) {
        CAPTURE(period);
        CHECK(list.visit_idle(period * 1000 - 1, 1000, [](ActivityNode&) { FAIL("not due yet"); }) == 0);
        CHECK(list.visit_idle(period * 1000, 1000, [&](ActivityNode& node) { CHECK(&node == &lone); }) == 1);
        CHECK(list.size() == 1);
    }
}

TEST_CASE("due nodes come round every period beside a busy neighbour, one or many") {
    for (int quiet_count : {1, 2, 50}) {
        CAPTURE(quiet_count);
        ActivityList list;
        std::vector<ActivityNode> quiet(quiet_count);
        ActivityNode busy;
        for (auto& node : quiet) list.touch(node, 0);
        list.touch(busy, 0);
        std::vector<int> visits(quiet_count, 0);
        for (sse::Millis now = 10; now <= 5000; now += 10) {
            list.touch(busy, now);  // the neighbour sends every 10 ms
            list.visit_idle(now, 1000, [&](ActivityNode& node) {
                CHECK(&node != &busy);
                visits[&node - quiet.data()] += 1;
            });
        }
        for (int count : visits) CHECK(count == 5);  // at 1000, 2000, ... 5000
    }
}

TEST_CASE("a visitor may remove the node it is given") {
    ActivityList list;
    ActivityNode a, b;
    list.touch(a, 0);
    list.touch(b, 0);
    CHECK(list.visit_idle(100, 10, [&](ActivityNode& node) { list.remove(node); }) == 2);
    CHECK(list.empty());
}
