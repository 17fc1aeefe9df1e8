#include "hardening_client.h"

#include <fstream>
#include <stdexcept>
#include <thread>
#include <utility>

namespace sse::test {

std::vector<Response> parse_responses(std::string_view bytes) {
    std::vector<Response> responses;
    while (!bytes.empty()) {
        std::size_t head_end = bytes.find("\r\n\r\n");
        if (head_end == std::string_view::npos) throw std::runtime_error("incomplete response head");
        Response response = parse_head(bytes.substr(0, head_end));
        bytes.remove_prefix(head_end + 4);
        int status = response.status;
        if (status / 100 != 1 && status != 204 && status != 304) {
            if (response.has("Content-Length")) {
                std::size_t length = std::stoul(response.header("Content-Length"));
                if (length > bytes.size()) throw std::runtime_error("response body cut short");
                response.body = std::string(bytes.substr(0, length));
                bytes.remove_prefix(length);
            } else {
                response.body = std::string(bytes);
                bytes = {};
            }
        }
        responses.push_back(std::move(response));
    }
    return responses;
}

bool retry_until(const std::function<bool()>& attempt, Deadline deadline, std::chrono::milliseconds pause) {
    for (;;) {
        if (attempt()) return true;
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(pause);
    }
}

std::size_t kernel_send_buffer_max() {
    std::ifstream wmem("/proc/sys/net/ipv4/tcp_wmem");
    std::size_t min = 0, initial = 0, max = 0;
    if (wmem >> min >> initial >> max && max > 0) return max;
    return 4 * 1024 * 1024;
}

long subscribers_in(const std::string& json) {
    constexpr std::string_view key = "\"subscribers\":";
    std::size_t at = json.find(key);
    if (at == std::string::npos) return -1;
    return std::stol(json.substr(at + key.size()));
}

}  // namespace sse::test
