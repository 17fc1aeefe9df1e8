#include "options.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>

#include "auth/jwt.h"
#include "base.h"

namespace sse_load {

namespace {

constexpr const char* kUsage = R"(Usage: sse-load MODE --url URL [options]

A load generator for Server-Sent Events servers. Loopback (127.0.0.0/8) only.

Modes:
  sub    hold --streams event streams open, parse them, and measure
         publish-to-receive latency and missing/duplicated/out-of-order events
         (the events must come from `sse-load pub`, whose payload carries a
         timestamp and a sequence number)
  pub    publish --events events to the URL with POST
  churn  open a stream, wait for its head and first body byte, close, repeat;
         measures how fast a server sets up and tears down streams

URL:
  http://127.0.0.1:PORT/PATH (numeric IPv4 only). In PATH, {topics} (or its
  alias {topic}) is replaced per stream by its topics joined with commas
  (sub, churn) or per event by the event's topic (pub). Examples:
    sub:  http://127.0.0.1:8000/latest/{topic}
    sub:  http://127.0.0.1:8000/latest?type={topics}   with --per-stream 3
    pub:  http://127.0.0.1:8000/publish?topic={topic}

Common options:
  --duration S            stop after S seconds at most (default 10)
  --topics a,b,c          the topic pool (default bench)
  --topic-template T      the topic pool is T with {n} replaced by 0, 1, ..
                          up to --topic-count - 1, instead of --topics; e.g.
                          'user.{n}.events' with --streams equal to the count
                          gives every stream a topic of its own
  --topic-count N         the size of that pool
  --sources N             spread connections over source addresses 127.0.0.1
                          .. 127.0.0.N, bound before connect(), so more than
                          the ~28,000 ephemeral ports of one address can be
                          used; 0 lets the kernel choose (default 16)
  --source ADDR           the first of those addresses (default 127.0.0.1):
                          the --sources addresses count up from it, so
                          several processes can each take a range of their
                          own within 127.0.0.0/8
  --label TEXT            copied into the JSON summary as "label"
  --quiet                 no progress lines on stderr
  --help                  this text

sub options:
  --streams N             streams to open (default 100)
  --per-stream M          topics per stream: stream i takes pool entries
                          i*M .. i*M+M-1 (mod pool size) (default 1)
  --expect K              stop once every stream has K events (default: no goal)
  --connect-concurrency C at most C connections between connect() and the end
                          of their response head (default 500)
  --connect-rate R        at most R new connections per second (default: no cap)
  --ready-file PATH       write "open N failed F" to PATH once every stream has
                          its response head or has failed: the moment to start
                          publishing
  --status-file PATH      rewrite PATH about once a second (even with
                          --quiet) and at the end: a line "open O failed F
                          closed C reconnecting R events E reconnects N
                          first_loss_ns L last_back_ns B", then one line
                          "latency LOW HIGH COUNT" per non-empty bucket of
                          the latency-from-schedule histogram (ns), so that
                          a script can follow several processes at once and
                          merge their histograms
  --reconnect             a stream the server ends (EOF or reset after its
                          head) is opened again after the retry: delay it
                          was last sent (3,000 ms if none), with
                          Last-Event-ID set to the last id it saw, as a
                          browser's EventSource does; its sequence tracking
                          carries over, so a missed or repeated event still
                          counts. A reopen that fails is tried again after
                          the same delay. Adds reconnects, reconnect_ms
                          {p50,p99,max} (end to new head), reconnecting,
                          first_loss_ns and last_back_ns (CLOCK_MONOTONIC)
                          to the summary

Token options (sub, churn), for servers with private topics; each stream
sends its token as "Authorization: Bearer JWT":
  --token JWT             the same token for every stream
  --token-file PATH       the same, read from the first line of PATH (not
                          visible in ps)
  --key-file PATH         a token of its own for every stream, minted here:
                          HS256 under the key on the first line of PATH (at
                          least 32 bytes, as the server requires), granting
                          exactly the stream's topics, and expiring an hour
                          after --duration:
                          {"sub":"sse-load","exp":E,"sse":{"subscribe":[..]}}

churn options:
  --concurrency C         cycles running at once (default 50)
  --cycles N              stop after N cycles (default: run for --duration)
                          (every cycle opens the pool's first topic)

pub options:
  --events K              events to publish (default 100), spread round-robin
                          over the topics; seq counts from 1 per topic
  --rate R                events per second over all connections; 0 sends the
                          next event as soon as the previous answer came
                          (default 0)
  --connections M         keep-alive connections (default 1). Topic j always
                          uses connection j mod M and waits for each answer,
                          so the server sees every topic's events in order;
                          more connections than topics are not used
  --size B                padding bytes in each event's data (default 0)
  --first-seq N           each topic's first event has seq N (default 1):
                          a script that publishes one event per run keeps
                          the sequence going across runs
  --random-topics         each event goes to a topic picked at random from
                          the pool (uniformly; the same picks every run)
                          rather than in turn; seq still counts from 1 per
                          topic, and topic j still uses connection j mod M

Payload written by pub, read by sub (one line of JSON):
  {"topic":"T","seq":N,"due":NS,"t":NS,"pad":"xxxx"}   (CLOCK_MONOTONIC; due:
  when --rate scheduled the event, t: when it was written)

Summary (stdout, one JSON object):
  sub:   streams, streams_open (had a 200 head), streams_failed, closed_early,
         connect_ms {p50,p99,max} (connect() to end of response head),
         events, deliveries_per_s (events / time from first to last event),
         latency_us {p50,p90,p99,max} (from t), latency_from_schedule_us
         {p50,p90,p99,max} (from due: also counts time an event waited
         to be sent because the server answered late), errors, error_kinds, missing,
         duplicated, out_of_order, incomplete_streams (with --expect),
         client_cpu_s
  pub:   published (2xx answers), failed, duration_s (first send to last
         answer), publishes_per_s, answer_ms {p50,p99,max}, client_cpu_s
  churn: cycles, failed, cycles_per_s, setup_ms {p50,p99,max}, error_kinds,
         client_cpu_s

Exit status: 0 when the run ended normally (even with errors: they are in the
summary), 2 for a bad option.
)";

struct OptionParser {
    std::vector<std::string_view> args;
    std::size_t next = 0;

    bool done() const { return next >= args.size(); }

    // Splits "--name=value" or "--name value"; flags take no value.
    std::pair<std::string_view, std::string_view> take(bool (*is_flag)(std::string_view)) {
        std::string_view arg = args[next++];
        std::size_t eq = arg.find('=');
        if (eq != std::string_view::npos) return {arg.substr(0, eq), arg.substr(eq + 1)};
        if (is_flag(arg)) return {arg, {}};
        if (done()) die("option " + std::string(arg) + " needs a value");
        return {arg, args[next++]};
    }
};

bool is_flag(std::string_view name) {
    return name == "--quiet" || name == "--help" || name == "--random-topics" || name == "--reconnect";
}

template <class Number>
Number number_option(std::string_view name, std::string_view value) {
    std::optional<Number> number = parse_number<Number>(value);
    if (!number || *number < 0) die("bad value for " + std::string(name) + ": '" + std::string(value) + "'");
    return *number;
}

void apply_option(Options& o, std::string_view name, std::string_view value) {
    if (name == "--url") o.url = value;
    else if (name == "--duration") o.duration_s = number_option<double>(name, value);
    else if (name == "--topics") o.topics = split(value, ',');
    else if (name == "--topic-template") o.topic_template = value;
    else if (name == "--topic-count") o.topic_count = number_option<std::size_t>(name, value);
    else if (name == "--sources") o.sources = number_option<std::size_t>(name, value);
    else if (name == "--source") o.first_source = value;
    else if (name == "--label") o.label = value;
    else if (name == "--quiet") o.quiet = true;
    else if (name == "--streams") o.streams = number_option<std::size_t>(name, value);
    else if (name == "--per-stream") o.per_stream = number_option<std::size_t>(name, value);
    else if (name == "--expect") o.expect = number_option<std::uint64_t>(name, value);
    else if (name == "--connect-concurrency") o.connect_concurrency = number_option<std::size_t>(name, value);
    else if (name == "--connect-rate") o.connect_rate = number_option<double>(name, value);
    else if (name == "--ready-file") o.ready_file = value;
    else if (name == "--status-file") o.status_file = value;
    else if (name == "--reconnect") o.reconnect = true;
    else if (name == "--token") o.token = value;
    else if (name == "--token-file") o.token = first_line_of(value);
    else if (name == "--key-file") o.token_key = first_line_of(value);
    else if (name == "--concurrency") o.concurrency = number_option<std::size_t>(name, value);
    else if (name == "--cycles") o.cycles = number_option<std::uint64_t>(name, value);
    else if (name == "--events") o.events = number_option<std::uint64_t>(name, value);
    else if (name == "--rate") o.rate = number_option<double>(name, value);
    else if (name == "--connections") o.connections = number_option<std::size_t>(name, value);
    else if (name == "--size") o.size = number_option<std::size_t>(name, value);
    else if (name == "--random-topics") o.random_topics = true;
    else if (name == "--first-seq") o.first_seq = number_option<std::uint64_t>(name, value);
    else die("unknown option " + std::string(name) + " (see --help)");
}

// The pool --topic-template and --topic-count describe.
std::vector<std::string> topics_from_template(const std::string& pattern, std::size_t count) {
    if (pattern.find("{n}") == std::string::npos) die("--topic-template needs {n} in it");
    if (count == 0) die("--topic-template needs --topic-count N (at least 1)");
    std::vector<std::string> topics;
    topics.reserve(count);
    for (std::size_t n = 0; n < count; ++n) topics.push_back(substitute(pattern, "{n}", std::to_string(n)));
    return topics;
}

}  // namespace

Options parse_options(int argc, char** argv) {
    OptionParser parser{{argv + 1, argv + argc}};
    if (parser.done() || parser.args[0] == "--help") {
        std::fputs(kUsage, stdout);
        std::exit(parser.done() ? 2 : 0);
    }
    Options o;
    std::vector<std::string_view> given;
    std::string_view mode = parser.args[parser.next++];
    if (mode == "sub") o.mode = Mode::Sub;
    else if (mode == "pub") o.mode = Mode::Pub;
    else if (mode == "churn") o.mode = Mode::Churn;
    else die("unknown mode '" + std::string(mode) + "' (sub, pub or churn; see --help)");
    while (!parser.done()) {
        auto [name, value] = parser.take(is_flag);
        if (name == "--help") {
            std::fputs(kUsage, stdout);
            std::exit(0);
        }
        apply_option(o, name, value);
        given.push_back(name);
    }
    auto was_given = [&](std::string_view name) { return std::find(given.begin(), given.end(), name) != given.end(); };
    if (o.url.empty()) die("--url is required (see --help)");
    if (!o.topic_template.empty()) {
        if (was_given("--topics")) die("give --topics or --topic-template, not both");
        o.topics = topics_from_template(o.topic_template, o.topic_count);
    } else if (was_given("--topic-count")) {
        die("--topic-count needs --topic-template");
    }
    if (int sources = was_given("--token") + was_given("--token-file") + was_given("--key-file"); sources > 1) {
        die("give one of --token, --token-file and --key-file");
    }
    if (was_given("--token") && o.token.empty()) die("--token needs a value");
    if (was_given("--key-file") && o.token_key.size() < sse::kMinHs256KeyBytes) {
        die("the key in the --key-file is " + std::to_string(o.token_key.size()) + " bytes; HS256 needs at least " +
            std::to_string(sse::kMinHs256KeyBytes));
    }
    if (o.topics.empty() || std::any_of(o.topics.begin(), o.topics.end(), [](auto& t) { return t.empty(); })) {
        die("--topics needs non-empty names");
    }
    if (o.first_seq == 0) die("--first-seq must be at least 1");
    if (o.per_stream == 0 || o.connections == 0 || o.concurrency == 0 || o.connect_concurrency == 0) {
        die("--per-stream, --connections, --concurrency and --connect-concurrency must be at least 1");
    }
    return o;
}

}  // namespace sse_load
