// Test helper: bytes placed to end exactly before an unreadable page, so a
// parser that reads one byte too far crashes instead of passing by luck.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <new>
#include <string_view>

namespace sse::test {

// Maps enough pages for `capacity` bytes plus one PROT_NONE page after
// them; place() copies bytes so that they end exactly at that page.
class GuardedBytes {
public:
    explicit GuardedBytes(std::size_t capacity) {
        auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        readable_ = (capacity / page + 1) * page;
        void* p = mmap(nullptr, readable_ + page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        base_ = static_cast<char*>(p);
        if (mprotect(base_ + readable_, page, PROT_NONE) != 0) throw std::bad_alloc();
        mapped_ = readable_ + page;
    }
    ~GuardedBytes() { munmap(base_, mapped_); }
    GuardedBytes(const GuardedBytes&) = delete;
    GuardedBytes& operator=(const GuardedBytes&) = delete;

    std::string_view place(std::string_view bytes) {
        char* start = base_ + readable_ - bytes.size();
        if (!bytes.empty()) std::memcpy(start, bytes.data(), bytes.size());
        return {start, bytes.size()};
    }

private:
    char* base_ = nullptr;
    std::size_t readable_ = 0;
    std::size_t mapped_ = 0;
};

}  // namespace sse::test
