#include "churner.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base.h"
#include "http.h"
#include "report.h"
#include "tokens.h"

namespace sse_load {

namespace {

// --concurrency slots, each looping: connect, send the GET, wait for the head
// and the first body byte (a stream has begun), close. wrk cannot do this: it
// counts a response only when its body ends, and a stream's body never ends.
class Churner {
public:
    Churner(const Options& options, Target target)
        : o_(options), target_(std::move(target)), sources_(options.sources, options.first_source), slots_(options.concurrency) {
        const std::string& topic = o_.topics[0];
        std::string path = substitute(substitute(target_.path_pattern, "{topics}", topic), "{topic}", topic);
        request_ = format_get(target_, path, Tokens(o_).header_for({topic}));
    }

    void run() {
        start_ = now_ns();
        std::int64_t deadline = start_ + static_cast<std::int64_t>(o_.duration_s * 1e9);
        Progress progress(o_.quiet, start_);
        while (!g_stop && now_ns() < deadline && (o_.cycles == 0 || cycles_ + failed_ < o_.cycles)) {
            refill();
            progress.tick(now_ns(), [&] {
                return "churn: cycles " + std::to_string(cycles_) + " failed " + std::to_string(failed_);
            });
            for (const epoll_event& ready : poller_.wait(progress.ms_until_next(now_ns()))) {
                step(ready.data.u64, ready.events);
            }
        }
        print_summary(now_ns());
    }

private:
    struct Slot {
        int fd = -1;
        bool connected = false;
        std::int64_t started_ns = 0;
        std::string head;
    };

    // Starts a cycle in every free slot, as long as --cycles allows more.
    // Done from the loop, not from end(), so that a connect() failing again
    // and again cannot recurse.
    void refill() {
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            if (slots_[i].fd >= 0) continue;
            if (o_.cycles > 0 && cycles_ + failed_ + in_progress() >= o_.cycles) return;
            begin(i);
        }
    }

    void begin(std::size_t i) {
        Slot& slot = slots_[i];
        int error = 0;
        slot = Slot{};
        slot.started_ns = now_ns();
        slot.fd = start_connect(target_, sources_.next(), error);
        if (slot.fd < 0) return end(i, errno_name(error));
        ++busy_;
        poller_.add(slot.fd, EPOLLOUT, i);
    }

    void step(std::size_t i, std::uint32_t events) {
        Slot& slot = slots_[i];
        if (!slot.connected) {
            int error = socket_error(slot.fd);
            if (error != 0 || (events & EPOLLERR)) return end(i, errno_name(error ? error : ECONNREFUSED));
            if (write(slot.fd, request_.data(), request_.size()) != static_cast<ssize_t>(request_.size())) {
                return end(i, "short request write");
            }
            slot.connected = true;
            poller_.modify(slot.fd, EPOLLIN, i);
            return;
        }
        ssize_t n = read(slot.fd, g_read_buffer, sizeof g_read_buffer);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        if (n <= 0) return end(i, n == 0 ? "eof" : errno_name(errno));
        slot.head.append(g_read_buffer, static_cast<std::size_t>(n));
        std::optional<std::size_t> head_end = find_head_end(slot.head);
        if (!head_end || *head_end == slot.head.size()) return;  // wait for the first body byte
        ResponseHead head;
        if (!parse_head(slot.head, head) || head.status != 200) return end(i, "http " + std::to_string(head.status));
        setup_ns_.add(static_cast<std::uint64_t>(now_ns() - slot.started_ns));
        end(i, {});
    }

    // Closes the slot's connection and counts the cycle; refill() reuses it.
    void end(std::size_t i, const std::string& error) {
        Slot& slot = slots_[i];
        if (slot.fd >= 0) {
            close(slot.fd);
            --busy_;
        }
        slot.fd = -1;
        if (error.empty()) {
            ++cycles_;
        } else {
            ++failed_;
            ++errors_[error];
        }
    }

    std::size_t in_progress() const { return busy_; }

    void print_summary(std::int64_t now) const {
        double seconds = static_cast<double>(now - start_) / 1e9;
        Json json;
        json.field("mode", "churn");
        if (!o_.label.empty()) json.field("label", o_.label);
        json.field("concurrency", static_cast<double>(slots_.size()))
            .field("cycles", static_cast<double>(cycles_))
            .field("failed", static_cast<double>(failed_))
            .field("duration_s", seconds)
            .field("cycles_per_s", seconds > 0 ? std::round(static_cast<double>(cycles_) / seconds) : 0)
            .object("setup_ms", percentiles(setup_ns_, 1e6, false))
            .object("error_kinds", error_kinds(errors_))
            .field("client_cpu_s", own_cpu_seconds());
        std::printf("%s\n", json.text().c_str());
    }

    const Options& o_;
    Target target_;
    SourceAddresses sources_;
    Poller poller_;
    std::vector<Slot> slots_;
    std::string request_;
    std::int64_t start_ = 0;
    std::uint64_t cycles_ = 0, failed_ = 0;
    std::size_t busy_ = 0;  // slots with a connection
    Histogram setup_ns_;
    std::map<std::string, std::uint64_t> errors_;
};

}  // namespace

void run_churn(const Options& options, Target target) { Churner(options, std::move(target)).run(); }

}  // namespace sse_load
