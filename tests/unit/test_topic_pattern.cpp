// Topic patterns and the index that finds the patterns a topic reaches.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "sse/pattern_index.h"
#include "sse/topic_pattern.h"

using sse::pattern_covers;
using sse::pattern_matches;

namespace {

struct Row {
    const char* pattern;
    const char* name;
    bool matches;
};

const Row kMatches[] = {
    {"news", "news", true},
    {"news", "news.eu", false},
    {"user.42.*", "user.42.orders", true},
    {"user.42.*", "user.42", false},
    {"user.42.*", "user.42.a.b", false},
    {"user.42.**", "user.42.orders", true},
    {"user.42.**", "user.42.a.b.c", true},
    {"user.42.**", "user.42", false},
    {"user.42.**", "user.4", false},
    {"*.alerts", "eu.alerts", true},
    {"*.alerts", "alerts", false},
    {"*.alerts", "eu.west.alerts", false},
    {"*", "news", true},
    {"*", "news.eu", false},
    {"**", "news", true},
    {"**", "a.b.c", true},
    {"a.*.c", "a.b.c", true},
    {"a.*.c", "a.b.d", false},
    {"a.*", "a.", true},  // an empty last segment is a segment
    {"user.4*", "user.4x", false},  // not valid; never matches a name it spells differently
};

struct CoverRow {
    const char* grant;
    const char* requested;
    bool covers;
};

const CoverRow kCovers[] = {
    {"user.42.**", "user.42.orders", true},
    {"user.42.**", "user.42.*", true},
    {"user.42.**", "user.42.**", true},
    {"user.42.**", "user.42.a.*.b", true},
    {"user.42.**", "user.42", false},
    {"user.42.**", "user.*", false},
    {"user.42.*", "user.42.orders", true},
    {"user.42.*", "user.42.*", true},
    {"user.42.*", "user.42.**", false},
    {"user.*", "user.**", false},
    {"user.*.orders", "user.42.orders", true},
    {"user.*.orders", "user.*.orders", true},
    {"user.42.orders", "user.*.orders", false},
    {"news", "news", true},
    {"news", "*", false},
    {"**", "anything.at.all", true},
    {"**", "**", true},
    {"*", "**", false},
};

}  // namespace

TEST_CASE("valid patterns: topic characters, * segments, ** only last") {
    for (const char* good : {"news", "user.42.*", "user.42.**", "*", "**", "*.alerts", "a.*.b.**", "a..b"}) {
        CAPTURE(good);
        CHECK(sse::is_valid_pattern(good));
    }
    for (const char* bad : {"", "user.**.x", "user.4*", "us*er", "***", "a b", "a/b", "**.a", "user.*x"}) {
        CAPTURE(bad);
        CHECK_FALSE(sse::is_valid_pattern(bad));
    }
    CHECK(sse::is_valid_pattern(std::string(64, 'x')));
    CHECK_FALSE(sse::is_valid_pattern(std::string(65, 'x')));
    CHECK(sse::has_wildcard("a.*"));
    CHECK_FALSE(sse::has_wildcard("a.b"));
}

TEST_CASE("pattern_matches, row by row") {
    for (const Row& row : kMatches) {
        CAPTURE(row.pattern);
        CAPTURE(row.name);
        CHECK(pattern_matches(row.pattern, row.name) == row.matches);
    }
}

TEST_CASE("pattern_covers, row by row") {
    for (const CoverRow& row : kCovers) {
        CAPTURE(row.grant);
        CAPTURE(row.requested);
        CHECK(pattern_covers(row.grant, row.requested) == row.covers);
    }
}

TEST_CASE("covers agrees with matches: whatever a covered pattern matches, the grant matches") {
    const std::vector<std::string> patterns = {"a", "b", "*", "**", "a.*", "a.**", "*.b", "a.b", "a.*.c", "*.*",
                                               "a.b.**", "*.**", "a.b.c"};
    const std::vector<std::string> names = {"a", "b", "a.b", "a.c", "b.b", "a.b.c", "a.x.c", "a.b.c.d", "x.y"};
    for (const std::string& grant : patterns) {
        for (const std::string& requested : patterns) {
            if (!pattern_covers(grant, requested)) continue;
            for (const std::string& name : names) {
                CAPTURE(grant);
                CAPTURE(requested);
                CAPTURE(name);
                if (pattern_matches(requested, name)) CHECK(pattern_matches(grant, name));
            }
        }
    }
}

TEST_CASE("the index visits exactly the values whose pattern matches") {
    sse::PatternIndex<int> index;
    const std::vector<std::string> patterns = {"user.42.*", "user.42.**", "user.*.alerts", "*", "**", "news",
                                               "user.7.*", "a.*.c", "user.42.orders"};
    for (int i = 0; i < static_cast<int>(patterns.size()); ++i) index.add(patterns[i], i);
    CHECK(index.size() == patterns.size());
    for (const char* name : {"user.42.orders", "user.42", "user.42.a.b", "user.9.alerts", "news", "a.b.c", "zzz"}) {
        CAPTURE(name);
        std::vector<int> visited;
        index.visit(name, [&](int v) { visited.push_back(v); });
        std::sort(visited.begin(), visited.end());
        std::vector<int> expected;
        for (int i = 0; i < static_cast<int>(patterns.size()); ++i)
            if (pattern_matches(patterns[i], name)) expected.push_back(i);
        CHECK(visited == expected);
    }
}

TEST_CASE("the index agrees with pattern_matches on random patterns and names, and empties on removal") {
    std::mt19937 rng(7);
    const std::vector<std::string> parts = {"a", "b", "c", "*"};
    auto random_pattern = [&] {
        std::string p;
        int n = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < n; ++i) {
            if (i) p += '.';
            p += (i == n - 1 && rng() % 5 == 0) ? std::string("**") : parts[rng() % parts.size()];
        }
        return p;
    };
    auto random_name = [&] {
        std::string p;
        int n = 1 + static_cast<int>(rng() % 5);
        for (int i = 0; i < n; ++i) p += (i ? "." : "") + parts[rng() % 3];
        return p;
    };
    sse::PatternIndex<int> index;
    std::vector<std::string> patterns;
    for (int i = 0; i < 300; ++i) {
        patterns.push_back(random_pattern());
        REQUIRE(sse::is_valid_pattern(patterns.back()));
        index.add(patterns.back(), i);
    }
    for (int round = 0; round < 300; ++round) {
        std::string name = random_name();
        std::vector<int> visited;
        index.visit(name, [&](int v) { visited.push_back(v); });
        std::sort(visited.begin(), visited.end());
        std::vector<int> expected;
        for (int i = 0; i < static_cast<int>(patterns.size()); ++i)
            if (pattern_matches(patterns[i], name)) expected.push_back(i);
        CAPTURE(name);
        CHECK(visited == expected);
    }
    for (int i = 0; i < static_cast<int>(patterns.size()); ++i) index.remove(patterns[i], i);
    CHECK(index.empty());
    index.remove("a.b", 1);  // not there: harmless
    CHECK(index.empty());
}

TEST_CASE("patterns_overlap: some topic matches both, checked against names") {
    const std::vector<std::string> patterns = {"a", "b", "*", "**", "a.*", "a.**", "*.b", "a.b", "a.*.c", "*.*",
                                               "a.b.**", "*.**", "a.b.c", "private.**", "private"};
    const std::vector<std::string> names = {"a", "b", "a.b", "a.c", "b.b", "a.b.c", "a.x.c", "a.b.c.d", "x.y",
                                            "private", "private.x", "private.x.y", "private.b"};
    for (const std::string& x : patterns) {
        for (const std::string& y : patterns) {
            bool witnessed = false;
            for (const std::string& name : names)
                witnessed = witnessed || (pattern_matches(x, name) && pattern_matches(y, name));
            CAPTURE(x);
            CAPTURE(y);
            // Every witnessed overlap is found; every found overlap is
            // real (the names above are rich enough to witness these).
            CHECK(sse::patterns_overlap(x, y) == witnessed);
            CHECK(sse::patterns_overlap(x, y) == sse::patterns_overlap(y, x));
        }
    }
}
