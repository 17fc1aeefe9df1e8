// What a run reports: latency histograms, the one-line JSON summary on
// stdout and the progress lines on stderr.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base.h"

namespace sse_load {

// A log-linear histogram (the idea of HdrHistogram): values below 128 have a
// bucket each; above, every power of two is cut into 64 equal buckets, so a
// reported percentile is within 1/64 (1.6%) of the truth whatever the range,
// and ten million samples cost the same 30 KiB as ten.
class Histogram {
public:
    void add(std::uint64_t value) {
        ++counts_[index(value)];
        ++count_;
        max_ = std::max(max_, value);
    }

    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return max_; }

    // The value below which `percent` of the samples lie (bucket midpoint).
    std::uint64_t percentile(double percent) const {
        if (count_ == 0) return 0;
        auto rank = static_cast<std::uint64_t>(percent / 100.0 * static_cast<double>(count_) + 0.999999);
        rank = std::clamp<std::uint64_t>(rank, 1, count_);
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= rank) return std::min(max_, (lowest(i) + highest(i)) / 2);
        }
        return max_;
    }

    // Calls visit(lowest, highest, count) for each non-empty bucket, in
    // order: enough to merge the histograms of several processes exactly.
    template <class Visit>
    void for_each_bucket(Visit&& visit) const {
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            if (counts_[i] > 0) visit(lowest(i), highest(i), counts_[i]);
        }
    }

private:
    static constexpr int kLinear = 128;        // exact buckets for 0..127
    static constexpr int kSubBuckets = 64;     // per power of two above
    static constexpr int kBuckets = kLinear + 57 * kSubBuckets;

    static std::size_t index(std::uint64_t value) {
        if (value < kLinear) return value;
        int shift = static_cast<int>(std::bit_width(value)) - 7;  // keeps 7 significant bits: 64..127
        auto mantissa = static_cast<int>(value >> shift);
        return kLinear + (shift - 1) * kSubBuckets + (mantissa - kSubBuckets);
    }
    static std::uint64_t lowest(std::size_t i) {
        if (i < kLinear) return i;
        std::size_t j = i - kLinear;
        std::size_t shift = j / kSubBuckets + 1;
        return (j % kSubBuckets + kSubBuckets) << shift;
    }
    static std::uint64_t highest(std::size_t i) {
        return i < kLinear ? i : lowest(i) + (std::uint64_t{1} << ((i - kLinear) / kSubBuckets + 1)) - 1;
    }

    std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(kBuckets);
    std::uint64_t count_ = 0;
    std::uint64_t max_ = 0;
};

// Builds one flat-ish JSON object; enough for numbers, strings and nesting.
class Json {
public:
    Json& field(std::string_view key, double value) {
        char text[64];
        if (value == static_cast<double>(static_cast<std::int64_t>(value)) && std::abs(value) < 1e15) {
            std::snprintf(text, sizeof text, "%lld", static_cast<long long>(value));
        } else {
            std::snprintf(text, sizeof text, "%.3f", value);
        }
        return raw(key, text);
    }
    Json& field(std::string_view key, std::string_view value) {
        std::string quoted = "\"";
        for (char c : value) {
            if (c == '"' || c == '\\') quoted += '\\';
            if (static_cast<unsigned char>(c) >= 0x20) quoted += c;
        }
        return raw(key, quoted + "\"");
    }
    Json& object(std::string_view key, const Json& inner) { return raw(key, inner.text()); }
    std::string text() const { return "{" + body_ + "}"; }

private:
    Json& raw(std::string_view key, std::string_view value) {
        if (!body_.empty()) body_ += ',';
        body_.append("\"").append(key).append("\":").append(value);
        return *this;
    }
    std::string body_;
};

// p50/p99/max of nanosecond samples, in `unit_ns` units (1000: us, 1e6: ms),
// with p90 as well if `with_p90`.
Json percentiles(const Histogram& h, double unit_ns, bool with_p90);

// {"kind": count, ...}, keys in sorted order.
Json error_kinds(const std::map<std::string, std::uint64_t>& kinds);

// Prints a progress line about once a second (never for runs under a second).
class Progress {
public:
    Progress(bool quiet, std::int64_t start) : quiet_(quiet), start_(start), next_(start + kNsPerSecond) {}

    template <class Line>
    void tick(std::int64_t now, Line&& line) {
        if (now < next_) return;
        next_ = now + kNsPerSecond;  // advanced even when quiet: the loop's sleep depends on it
        if (quiet_) return;
        std::string text = line();
        std::fprintf(stderr, "sse-load %5.1fs %s\n", static_cast<double>(now - start_) / 1e9, text.c_str());
    }
    int ms_until_next(std::int64_t now) const {
        return static_cast<int>(std::clamp<std::int64_t>((next_ - now) / 1'000'000 + 1, 0, 1000));
    }

private:
    bool quiet_;
    std::int64_t start_;
    std::int64_t next_;
};

}  // namespace sse_load
