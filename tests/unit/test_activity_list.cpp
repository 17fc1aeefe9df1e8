// ActivityList: ordering by last activity and visiting only the due nodes.
#include <doctest/doctest.h>

#include <vector>

#include "activity_list.h"

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

TEST_CASE("a visitor that neither touches nor removes cannot loop forever") {
    ActivityList list;
    ActivityNode a, b;
    list.touch(a, 0);
    list.touch(b, 0);
    CHECK(list.visit_idle(100, 10, [](ActivityNode&) {}) == 2);
    CHECK(list.empty());
}
