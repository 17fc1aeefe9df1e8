// Tests for src/history: caps and eviction, gap detection, multi-topic replay, expiry.
#include "sse/history.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

using sse::ChunkRef;
using sse::EventId;
using sse::History;
using sse::StoredEvent;

namespace {

constexpr std::size_t kNoByteCap = 1u << 30;

// An event whose id is {ms, 0} and whose plain form is `size` bytes.
StoredEvent event_of_size(std::uint64_t ms, std::size_t size) {
    return StoredEvent{EventId{ms, 0}, ChunkRef::make(std::string(size, 'x')), ChunkRef{}};
}

StoredEvent small_event(std::uint64_t ms) {
    return event_of_size(ms, 10);
}

// A 10-byte event {ms, 0} that is no longer held from `expires_ms` on.
StoredEvent expiring_event(std::uint64_t ms, std::uint64_t expires_ms) {
    StoredEvent event = small_event(ms);
    event.expires_ms = expires_ms;
    return event;
}

// The millisecond parts of a replay's ids, for compact comparisons.
std::vector<std::uint64_t> ids_of(const History::Replay& replay) {
    std::vector<std::uint64_t> ids;
    for (const StoredEvent* event : replay.events) ids.push_back(event->id.ms);
    return ids;
}

std::vector<std::uint64_t> range(std::uint64_t first, std::uint64_t last) {
    std::vector<std::uint64_t> ids;
    for (std::uint64_t id = first; id <= last; ++id) ids.push_back(id);
    return ids;
}

}  // namespace

TEST_CASE("StoredEvent counts a shared chunk once") {
    ChunkRef plain = ChunkRef::make("data: x\n\n");
    ChunkRef named = ChunkRef::make("event: t\ndata: x\n\n");
    CHECK(StoredEvent{EventId{1, 0}, plain, ChunkRef{}}.bytes() == 9);
    CHECK(StoredEvent{EventId{1, 0}, plain, named}.bytes() == 9 + 18);
    CHECK(StoredEvent{EventId{1, 0}, named, named}.bytes() == 18);
}

TEST_CASE("a topic's log wraps around at its count cap") {
    History history(1000, kNoByteCap, EventId{});
    const std::vector<std::string> topics = {"t"};
    for (std::uint64_t id = 1; id <= 2500; ++id) history.append("t", small_event(id));

    CHECK(history.events() == 1000);
    CHECK(history.events_of("t") == 1000);
    CHECK(history.evictions() == 1500);
    History::Replay all = history.since(topics, EventId{});
    CHECK(ids_of(all) == range(1501, 2500));
    CHECK(all.gap);

    History::Replay from_watermark = history.since(topics, EventId{1500, 0});
    CHECK(from_watermark.events.size() == 1000);
    CHECK_FALSE(from_watermark.gap);
    CHECK(history.since(topics, EventId{1499, 9}).gap);
    CHECK(ids_of(history.since(topics, EventId{2490, 0})) == range(2491, 2500));
}

TEST_CASE("the byte cap evicts the oldest event of the whole hub") {
    History history(100, 50, EventId{});  // room for five 10-byte events
    const char* const topics[] = {"a", "b", "c"};
    for (std::uint64_t id = 1; id <= 8; ++id) history.append(topics[id % 3], small_event(id));

    CHECK(history.events() == 5);
    CHECK(history.bytes() == 50);
    CHECK(history.evictions() == 3);
    const std::vector<std::string> every = {"a", "b", "c"};
    CHECK(ids_of(history.since(every, EventId{})) == range(4, 8));
    CHECK(history.oldest(every) == EventId{4, 0});

    // One large event pushes out as many old ones as it needs, in id order.
    history.append("a", event_of_size(9, 35));
    CHECK(ids_of(history.since(every, EventId{})) == range(8, 9));
    CHECK(history.bytes() == 45);
}

TEST_CASE("an event larger than the byte cap is kept alone") {
    History history(100, 50, EventId{});
    history.append("a", small_event(1));
    history.append("b", event_of_size(2, 80));
    CHECK(history.events() == 1);
    CHECK(history.bytes() == 80);
    CHECK(history.newest("b") == EventId{2, 0});
    CHECK(history.topics() == 1);

    history.append("b", small_event(3));
    CHECK(history.events() == 1);
    CHECK(history.newest("b") == EventId{3, 0});
}

TEST_CASE("gap detection against a topic's evicted watermark") {
    History history(3, kNoByteCap, EventId{});
    const std::vector<std::string> topics = {"t"};
    for (std::uint64_t id = 1; id <= 5; ++id) history.append("t", small_event(id));  // evicts 1, 2

    struct GapCase {
        std::uint64_t after;
        bool gap;
        std::vector<std::uint64_t> ids;
    };
    const GapCase cases[] = {
        {0, true, {3, 4, 5}},
        {1, true, {3, 4, 5}},
        {2, false, {3, 4, 5}},  // saw the evicted ones, misses nothing lost
        {4, false, {5}},
        {5, false, {}},
        {9, false, {}},
    };
    for (const GapCase& c : cases) {
        INFO("after " << c.after);
        History::Replay replay = history.since(topics, EventId{c.after, 0});
        CHECK(replay.gap == c.gap);
        CHECK(ids_of(replay) == c.ids);
    }
}

TEST_CASE("a topic that empties is deleted but its losses still count") {
    History history(100, 30, EventId{});
    history.append("old", small_event(1));
    history.append("busy", small_event(2));
    CHECK(history.topics() == 2);
    history.append("busy", small_event(3));
    history.append("busy", small_event(4));  // evicts event 1, the last of "old"

    CHECK(history.topics() == 1);
    CHECK(history.events_of("old") == 0);
    CHECK(history.bytes_of("old") == 0);
    const std::vector<std::string> old_topic = {"old"};
    const std::vector<std::string> never = {"never"};
    CHECK(history.since(old_topic, EventId{}).gap);
    CHECK_FALSE(history.since(old_topic, EventId{1, 0}).gap);
    CHECK_FALSE(history.since(never, EventId{1, 0}).gap);
    CHECK(history.since(never, EventId{0, 5}).gap);  // conservative: the hub forgot id 1

    SUBCASE("a topic created again inherits the hub's watermark") {
        history.append("old", small_event(5));
        CHECK(history.topics() == 2);
        CHECK(history.since(old_topic, EventId{}).gap);
        History::Replay replay = history.since(old_topic, EventId{1, 0});
        CHECK_FALSE(replay.gap);
        CHECK(ids_of(replay) == std::vector<std::uint64_t>{5});
    }
}

TEST_CASE("ids before the floor are gaps even with no history") {
    History history(10, kNoByteCap, EventId{100, 5});
    const std::vector<std::string> topics = {"x"};
    CHECK(history.since(topics, EventId{}).gap);
    CHECK(history.since(topics, EventId{100, 4}).gap);
    CHECK_FALSE(history.since(topics, EventId{100, 5}).gap);
    CHECK_FALSE(history.since(topics, EventId{200, 0}).gap);

    history.append("x", small_event(101));  // a new log inherits the floor
    CHECK(history.since(topics, EventId{100, 4}).gap);
    CHECK_FALSE(history.since(topics, EventId{100, 5}).gap);
}

TEST_CASE("a count cap of zero keeps nothing and remembers what it dropped") {
    History history(0, kNoByteCap, EventId{});
    history.append("t", small_event(7));
    CHECK(history.events() == 0);
    CHECK(history.bytes() == 0);
    CHECK(history.topics() == 0);
    CHECK(history.evictions() == 1);
    const std::vector<std::string> topics = {"t"};
    CHECK(history.since(topics, EventId{6, 0}).gap);
    CHECK_FALSE(history.since(topics, EventId{7, 0}).gap);
}

TEST_CASE("since merges several topics in id order") {
    History history(100, kNoByteCap, EventId{});
    const char* const names[] = {"a", "b", "c"};
    for (std::uint64_t id = 1; id <= 30; ++id) history.append(names[id % 3], small_event(id));

    const std::vector<std::string> a_and_c = {"c", "a"};  // order of topics is irrelevant
    std::vector<std::uint64_t> expected;
    for (std::uint64_t id = 1; id <= 30; ++id) {
        if (id % 3 != 1) expected.push_back(id);  // "b" gets id % 3 == 1
    }
    History::Replay replay = history.since(a_and_c, EventId{});
    CHECK(ids_of(replay) == expected);
    CHECK_FALSE(replay.gap);

    std::vector<std::uint64_t> tail;
    for (std::uint64_t id : expected) {
        if (id > 20) tail.push_back(id);
    }
    CHECK(ids_of(history.since(a_and_c, EventId{20, 0})) == tail);
}

TEST_CASE("oldest, newest and the counters") {
    History history(100, kNoByteCap, EventId{});
    const std::vector<std::string> none = {"nothing"};
    CHECK_FALSE(history.oldest(none).has_value());
    CHECK_FALSE(history.newest("nothing").has_value());

    history.append("a", event_of_size(1, 5));
    history.append("b", event_of_size(2, 7));
    history.append("a", event_of_size(3, 11));
    const std::vector<std::string> a = {"a"};
    const std::vector<std::string> b_and_none = {"b", "nothing"};
    const std::vector<std::string> both = {"a", "b"};
    CHECK(history.oldest(a) == EventId{1, 0});
    CHECK(history.oldest(b_and_none) == EventId{2, 0});
    CHECK(history.oldest(both) == EventId{1, 0});
    CHECK(history.newest("a") == EventId{3, 0});
    CHECK(history.newest("b") == EventId{2, 0});

    CHECK(history.events() == 3);
    CHECK(history.bytes() == 23);
    CHECK(history.events_of("a") == 2);
    CHECK(history.bytes_of("a") == 16);
    CHECK(history.bytes_of("b") == 7);
    CHECK(history.topics() == 2);
    CHECK(history.evictions() == 0);
}

TEST_CASE("an expired event is replayed to no one, counts for nothing, and its absence is no gap") {
    History history(100, kNoByteCap, EventId{});
    const std::vector<std::string> topics = {"t"};
    history.append("t", small_event(1));
    history.append("t", expiring_event(2, 1000));  // in the middle of its log
    history.append("t", expiring_event(3, 2000));
    history.append("t", small_event(4));

    CHECK(history.expire(999) == 0);  // held until its expiry, not one ms less
    CHECK(ids_of(history.since(topics, EventId{})) == std::vector<std::uint64_t>{1, 2, 3, 4});
    CHECK(history.expire(1000) == 1);
    CHECK(ids_of(history.since(topics, EventId{})) == std::vector<std::uint64_t>{1, 3, 4});
    CHECK(history.expire(5000) == 1);

    History::Replay replay = history.since(topics, EventId{1, 0});
    CHECK(ids_of(replay) == std::vector<std::uint64_t>{4});
    CHECK_FALSE(replay.gap);  // it missed 2 and 3, but they expired: nothing is lost
    CHECK_FALSE(history.since(topics, EventId{}).gap);
    CHECK(history.events() == 2);
    CHECK(history.bytes() == 20);
    CHECK(history.events_of("t") == 2);
    CHECK(history.bytes_of("t") == 20);
    CHECK(history.evictions() == 0);
    CHECK(history.expirations() == 2);
    CHECK(history.forgotten() == EventId{});
}

TEST_CASE("an expired event makes room under the count cap and the byte cap") {
    SUBCASE("the topic's count cap") {
        History history(3, kNoByteCap, EventId{});
        const std::vector<std::string> topics = {"t"};
        history.append("t", expiring_event(1, 100));
        history.append("t", small_event(2));
        history.append("t", small_event(3));
        history.expire(100);
        history.append("t", small_event(4));  // three held: no eviction
        CHECK(ids_of(history.since(topics, EventId{})) == std::vector<std::uint64_t>{2, 3, 4});
        CHECK_FALSE(history.since(topics, EventId{}).gap);
        CHECK(history.evictions() == 0);
    }
    SUBCASE("the hub's byte cap") {
        History history(100, 50, EventId{});  // room for five 10-byte events
        const std::vector<std::string> every = {"a", "b"};
        history.append("a", small_event(1));
        history.append("b", expiring_event(2, 100));
        for (std::uint64_t id = 3; id <= 5; ++id) history.append("a", small_event(id));
        history.expire(100);
        CHECK(history.bytes() == 40);
        history.append("b", small_event(6));  // 50 bytes: no eviction
        CHECK(ids_of(history.since(every, EventId{})) == std::vector<std::uint64_t>{1, 3, 4, 5, 6});
        CHECK_FALSE(history.since(every, EventId{}).gap);
        CHECK(history.evictions() == 0);
        CHECK(history.oldest(every) == EventId{1, 0});
    }
}

TEST_CASE("an evicted event is still a gap when expired ones are missing too") {
    History history(2, kNoByteCap, EventId{});
    const std::vector<std::string> topics = {"t"};
    history.append("t", small_event(1));
    history.append("t", expiring_event(2, 100));
    history.append("t", small_event(3));  // evicts 1
    history.expire(100);                   // 2 expires

    History::Replay from_start = history.since(topics, EventId{});
    CHECK(from_start.gap);
    CHECK(ids_of(from_start) == std::vector<std::uint64_t>{3});
    History::Replay after_evicted = history.since(topics, EventId{1, 0});
    CHECK_FALSE(after_evicted.gap);
    CHECK(ids_of(after_evicted) == std::vector<std::uint64_t>{3});
}

TEST_CASE("a log emptied by expiry is dropped without a gap; what it had evicted still counts") {
    History history(2, kNoByteCap, EventId{});
    const std::vector<std::string> x = {"x"};
    const std::vector<std::string> y = {"y"};
    history.append("x", expiring_event(1, 100));
    history.append("x", expiring_event(2, 50));  // expires before the older one
    history.expire(100);
    CHECK(history.topics() == 0);
    CHECK(history.events() == 0);
    CHECK_FALSE(history.oldest(x).has_value());
    CHECK_FALSE(history.newest("x").has_value());
    CHECK(history.forgotten() == EventId{});  // an expiry raises no watermark
    CHECK_FALSE(history.since(x, EventId{}).gap);
    CHECK_FALSE(history.since(x, EventId{1, 0}).gap);

    history.append("y", small_event(3));
    history.append("y", expiring_event(4, 200));
    history.append("y", expiring_event(5, 200));  // evicts 3
    history.expire(200);
    CHECK(history.topics() == 0);
    CHECK(history.since(y, EventId{2, 0}).gap);  // 3 was evicted
    CHECK_FALSE(history.since(y, EventId{3, 0}).gap);
    CHECK(history.forgotten() == EventId{3, 0});
}

TEST_CASE("an evicted event leaves the expiry index with its log") {
    History history(1, kNoByteCap, EventId{});
    const std::vector<std::string> topics = {"t"};
    history.append("t", expiring_event(1, 100));
    history.append("t", small_event(2));  // evicts 1, whose expiry is now nobody's
    history.append("u", expiring_event(3, 100));
    history.append("u", small_event(4));  // evicts 3
    CHECK(history.expire(100) == 0);
    CHECK(ids_of(history.since(topics, EventId{})) == std::vector<std::uint64_t>{2});
    CHECK(history.events() == 2);
    CHECK(history.expirations() == 0);
}

TEST_CASE("expiring the oldest event of a log keeps the byte cap's order") {
    History history(100, 30, EventId{});
    const std::vector<std::string> every = {"a", "b"};
    history.append("a", expiring_event(1, 100));
    history.append("a", small_event(2));
    history.append("b", small_event(3));
    history.expire(100);
    CHECK(history.oldest(every) == EventId{2, 0});
    history.append("b", small_event(4));
    history.append("b", small_event(5));  // 40 bytes: the oldest, 2, goes
    CHECK(ids_of(history.since(every, EventId{})) == std::vector<std::uint64_t>{3, 4, 5});
    CHECK(history.topics() == 1);
    CHECK(history.since(every, EventId{1, 0}).gap);
    CHECK_FALSE(history.since(every, EventId{2, 0}).gap);
}
