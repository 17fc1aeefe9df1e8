// Tests for src/event_id: the Last-Event-ID parser and the id generator.
#include "sse/event_id.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

using sse::EventId;
using sse::IdGenerator;

namespace {

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

// nullopt in a table row: the text must be refused.
const std::optional<EventId> kMalformed = std::nullopt;

struct ParseCase {
    const char* name;
    std::string text;
    std::optional<EventId> expected;
};

const ParseCase kParseCases[] = {
    {"zero", "0-0", EventId{0, 0}},
    {"typical", "1700000000000-0", EventId{1700000000000, 0}},
    {"sequence", "1700000000000-42", EventId{1700000000000, 42}},
    {"leading zeros", "007-01", EventId{7, 1}},
    {"largest part", "18446744073709551615-0", EventId{kMaxU64, 0}},
    {"20 digits with zeros", "00000000000000000001-0", EventId{1, 0}},
    {"exactly 32 chars", "1234567890123456-123456789012345", EventId{1234567890123456, 123456789012345}},
    {"empty", "", kMalformed},
    {"no dash", "1", kMalformed},
    {"no sequence", "1-", kMalformed},
    {"no ms", "-1", kMalformed},
    {"only dash", "-", kMalformed},
    {"letter", "a-1", kMalformed},
    {"letter in sequence", "1-1a", kMalformed},
    {"three parts", "1-2-3", kMalformed},
    {"double dash", "1--2", kMalformed},
    {"leading space", " 1-2", kMalformed},
    {"trailing space", "1-2 ", kMalformed},
    {"space around dash", "1 - 2", kMalformed},
    {"plus sign", "+1-2", kMalformed},
    {"plus in sequence", "1-+2", kMalformed},
    {"minus sign", "-1-2", kMalformed},
    {"21 digits", "000000000000000000001-0", kMalformed},
    {"21 digit sequence", "0-000000000000000000001", kMalformed},
    {"ms overflow", "18446744073709551616-0", kMalformed},
    {"sequence overflow", "0-18446744073709551616", kMalformed},
    {"far overflow", "99999999999999999999-0", kMalformed},
    {"33 chars", "1234567890123456-1234567890123456", kMalformed},
    {"NUL inside", std::string("1-2\0", 4), kMalformed},
    {"underscore", "1_2", kMalformed},
};

}  // namespace

TEST_CASE("parse_event_id") {
    for (const ParseCase& c : kParseCases) {
        INFO(c.name);
        CHECK(sse::parse_event_id(c.text) == c.expected);
    }
}

TEST_CASE("to_string round-trips through parse_event_id") {
    const EventId ids[] = {{0, 0}, {1, 2}, {1700000000000, 0}, {1700000000000, 99999}, {kMaxU64, 0}};
    for (const EventId& id : ids) {
        std::string text = id.to_string();
        INFO(text);
        CHECK(sse::parse_event_id(text) == id);
    }
    CHECK(EventId{1700000000000, 7}.to_string() == "1700000000000-7");
}

TEST_CASE("ids order by milliseconds, then sequence") {
    CHECK(EventId{1, 9} < EventId{2, 0});
    CHECK(EventId{2, 0} < EventId{2, 1});
    CHECK(EventId{}.is_zero());
    CHECK_FALSE((EventId{0, 1}.is_zero()));
}

TEST_CASE("next follows the clock forward and never goes back") {
    struct Step {
        std::uint64_t wall_ms;
        EventId expected;
    };
    const Step steps[] = {
        {1000, {1000, 0}},  // first id
        {1000, {1000, 1}},  // clock stays: sequence grows
        {1000, {1000, 2}},
        {1500, {1500, 0}},  // clock jumps forward
        {1200, {1500, 1}},  // clock goes back: keep the last millisecond
        {0, {1500, 2}},
        {1501, {1501, 0}},  // clock passes the last id again
    };
    IdGenerator generator;
    for (const Step& step : steps) {
        INFO("wall_ms " << step.wall_ms);
        CHECK(generator.next(step.wall_ms) == step.expected);
        CHECK(generator.last() == step.expected);
    }
}

TEST_CASE("ids stay strictly increasing over a wandering clock") {
    IdGenerator generator;
    EventId previous = generator.last();
    std::uint64_t wall = 10'000;
    for (int i = 0; i < 10'000; ++i) {
        // Stays for a while, jumps forward, and sometimes steps far back.
        if (i % 7 == 0) wall += 3;
        if (i % 101 == 0) wall -= 250;
        EventId id = generator.next(wall);
        REQUIRE(previous < id);
        previous = id;
    }
}

TEST_CASE("an exhausted sequence borrows the next millisecond") {
    IdGenerator generator(EventId{5, kMaxU64});
    CHECK(generator.next(5) == EventId{6, 0});
    CHECK(generator.next(3) == EventId{6, 1});
}

TEST_CASE("ids stay above the floor") {
    IdGenerator generator(EventId{2000, 5});
    CHECK(generator.next(1000) == EventId{2000, 6});
    CHECK(generator.next(2000) == EventId{2000, 7});
    CHECK(generator.next(2001) == EventId{2001, 0});
}

TEST_CASE("ids keep increasing across a simulated restart") {
    IdGenerator old_run;
    std::vector<EventId> issued;
    for (std::uint64_t wall = 5000; wall < 5010; ++wall) {
        issued.push_back(old_run.next(wall));
        issued.push_back(old_run.next(wall));
    }
    EventId last = old_run.last();
    CHECK(last == issued.back());

    SUBCASE("given the old last id as floor, even with the clock set back") {
        IdGenerator new_run(last);
        for (int i = 0; i < 5; ++i) CHECK(last < new_run.next(4000));
    }
    SUBCASE("without a floor, when the clock has moved on") {
        IdGenerator new_run;
        CHECK(last < new_run.next(last.ms + 1));
    }
}
