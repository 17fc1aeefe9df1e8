#include "report.h"

namespace sse_load {

Json percentiles(const Histogram& h, double unit_ns, bool with_p90) {
    auto in_unit = [&](std::uint64_t ns) { return std::round(static_cast<double>(ns) / unit_ns * 1000) / 1000; };
    Json json;
    json.field("p50", in_unit(h.percentile(50)));
    if (with_p90) json.field("p90", in_unit(h.percentile(90)));
    json.field("p99", in_unit(h.percentile(99)));
    json.field("max", in_unit(h.max()));
    return json;
}

Json error_kinds(const std::map<std::string, std::uint64_t>& kinds) {
    Json json;
    for (const auto& [kind, count] : kinds) json.field(kind, static_cast<double>(count));
    return json;
}

}  // namespace sse_load
