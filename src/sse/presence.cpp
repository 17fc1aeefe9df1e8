#include "sse/presence.h"

#include <algorithm>

#include "sse/event_stream.h"

namespace sse {

std::string encode_presence_event(std::string_view topic, std::size_t subscribers) {
    // Topic names are [A-Za-z0-9_.-]: nothing in them needs JSON escaping.
    std::string data = "{\"topic\":\"";
    data.append(topic).append("\",\"subscribers\":").append(std::to_string(subscribers)).append("}");
    return encode_event("", "presence", data);
}

bool PresenceBoard::watch(std::string_view topic, std::size_t count) {
    auto it = entries_.find(topic);
    if (it != entries_.end()) {
        ++it->second.watchers;
        return false;
    }
    Entry entry;
    entry.watchers = 1;
    entry.count = count;
    entry.told = count;
    entries_.emplace(std::string(topic), entry);
    return true;
}

bool PresenceBoard::unwatch(std::string_view topic) {
    auto it = entries_.find(topic);
    if (it == entries_.end() || --it->second.watchers > 0) return false;
    if (it->second.waiting) std::erase(waiting_, topic);
    entries_.erase(it);
    return true;
}

void PresenceBoard::set(std::string_view topic, std::size_t count) {
    auto it = entries_.find(topic);
    if (it == entries_.end()) return;
    Entry& entry = it->second;
    entry.count = count;
    // Waiting or not, what goes out is decided at take_due() time: a count
    // that comes back to what was told sends nothing.
    if (!entry.waiting && count != entry.told) {
        entry.waiting = true;
        waiting_.emplace_back(topic);
    }
}

std::size_t PresenceBoard::count(std::string_view topic) const {
    auto it = entries_.find(topic);
    return it == entries_.end() ? 0 : it->second.count;
}

std::vector<PresenceBoard::Change> PresenceBoard::take_due(Millis now) {
    std::vector<Change> due;
    std::vector<std::string> still_waiting;
    for (std::string& topic : waiting_) {
        Entry& entry = entries_.find(topic)->second;
        if (entry.count == entry.told) {
            entry.waiting = false;          // back where it was: nothing to say
        } else if (due_at(entry) <= now) {
            entry.waiting = false;
            entry.told = entry.count;
            entry.told_at = now;
            due.push_back(Change{std::move(topic), entry.count});
        } else {
            still_waiting.push_back(std::move(topic));
        }
    }
    waiting_ = std::move(still_waiting);
    return due;
}

std::optional<Millis> PresenceBoard::next_due() const {
    std::optional<Millis> next;
    for (const std::string& topic : waiting_) {
        Millis at = due_at(entries_.find(topic)->second);
        if (!next || at < *next) next = at;
    }
    return next;
}

std::vector<std::string> PresenceBoard::topics() const {
    std::vector<std::string> names;
    names.reserve(entries_.size());
    for (const auto& [name, entry] : entries_) names.push_back(name);
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace sse
