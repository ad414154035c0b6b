#include "rollup/hop_fold.h"

#include <algorithm>

namespace utracker::server::rollup {
namespace {

bool IsHandling(v1::EventKind kind) {
  return kind == v1::EVENT_KIND_RECEIVED || kind == v1::EVENT_KIND_PROCESSED ||
         kind == v1::EVENT_KIND_FAILED || kind == v1::EVENT_KIND_NOTE;
}

// What one message adds to the rollups.
struct Contribution {
  std::optional<SendKey> send;
  std::vector<std::pair<EdgeKey, Handling>> hops;
};

Contribution ContributionOf(const MessageHops& m) {
  Contribution c;
  if (!m.send) return c;
  const int64_t minute = MinuteOf(m.send->sent_at);
  c.send = SendKey{minute, m.send->sender, m.send->destination};
  for (const auto& [handler, h] : m.handlers) {
    if (handler == m.send->sender) continue;
    c.hops.push_back({EdgeKey{minute, m.send->sender, m.send->destination, handler}, h});
  }
  return c;
}

void AddContribution(const Contribution& c, const MessageHops& m, int sign, FoldResult* out) {
  if (!c.send) return;
  SendDelta& send = out->sends[*c.send];
  send.messages += sign;
  if (!c.hops.empty()) send.handled += sign;
  for (const auto& [key, h] : c.hops) {
    EdgeDelta& d = out->edges[key];
    const int64_t latency = h.handled_at - m.send->sent_at;
    d.messages += sign;
    d.failures += h.failed ? sign : 0;
    d.latency.Add(latency, sign);
    std::optional<int64_t>& extreme = sign > 0 ? d.max_added : d.max_removed;
    extreme = extreme ? std::max(*extreme, latency) : latency;
  }
}

}  // namespace

int64_t BucketOf(int64_t micros, int64_t width) {
  const int64_t q = micros / width;
  return (micros % width < 0 ? q - 1 : q) * width;
}

FoldResult Fold(const std::vector<InboxEvent>& events,
                const std::map<std::string, MessageHops>& state) {
  FoldResult out;
  std::map<std::string, MessageHops> next;  // only messages with events in this fold
  for (const InboxEvent& e : events) {
    NodeDelta& node = out.nodes[NodeKey{MinuteOf(e.at), e.service}];
    ++node.events;
    if (e.kind == v1::EVENT_KIND_SENT) ++node.sent;
    if (e.kind == v1::EVENT_KIND_PROCESSED) ++node.processed;
    if (e.kind == v1::EVENT_KIND_FAILED) ++node.failed;

    auto [it, added] = next.try_emplace(e.message_id);
    if (added) {
      auto old = state.find(e.message_id);
      if (old != state.end()) it->second = old->second;
    }
    MessageHops& m = it->second;
    if (e.kind == v1::EVENT_KIND_SENT) {
      // Earliest wins; ties go to the smaller (service, destination), so the send does not
      // depend on arrival order.
      if (!m.send || std::tie(e.at, e.service, e.destination) <
                         std::tie(m.send->sent_at, m.send->sender, m.send->destination)) {
        m.send = Send{e.service, e.destination, e.at};
      }
    } else if (IsHandling(e.kind)) {
      auto [h, fresh] = m.handlers.try_emplace(e.service, Handling{e.at, false});
      if (!fresh) h->second.handled_at = std::min(h->second.handled_at, e.at);
      if (e.kind == v1::EVENT_KIND_FAILED) h->second.failed = true;
    }
  }
  static const MessageHops kNone;
  for (auto& [id, now] : next) {
    auto old = state.find(id);
    const MessageHops& before = old == state.end() ? kNone : old->second;
    if (now == before) continue;
    AddContribution(ContributionOf(before), before, -1, &out);
    AddContribution(ContributionOf(now), now, +1, &out);
    out.changed.emplace(id, std::move(now));
  }
  // Drop what cancelled out (a hop taken out and put back in the same bucket).
  for (auto it = out.sends.begin(); it != out.sends.end();) {
    it = it->second.empty() ? out.sends.erase(it) : std::next(it);
  }
  for (auto it = out.edges.begin(); it != out.edges.end();) {
    const EdgeDelta& d = it->second;
    const bool no_change = d.messages == 0 && d.failures == 0 && d.latency.bins().empty() &&
                           d.max_added == d.max_removed;
    it = no_change ? out.edges.erase(it) : std::next(it);
  }
  return out;
}

FoldResult Coarsen(const FoldResult& minutes, int64_t width) {
  FoldResult out;
  for (const auto& [key, d] : minutes.nodes) {
    NodeDelta& n = out.nodes[NodeKey{BucketOf(key.minute, width), key.service}];
    n.events += d.events;
    n.sent += d.sent;
    n.processed += d.processed;
    n.failed += d.failed;
  }
  for (const auto& [key, n] : minutes.sends) {
    SendDelta& d = out.sends[SendKey{BucketOf(key.minute, width), key.sender, key.destination}];
    d.messages += n.messages;
    d.handled += n.handled;
  }
  auto max_of = [](std::optional<int64_t>* into, const std::optional<int64_t>& v) {
    if (v) *into = *into ? std::max(**into, *v) : *v;
  };
  for (const auto& [key, d] : minutes.edges) {
    EdgeDelta& e =
        out.edges[EdgeKey{BucketOf(key.minute, width), key.sender, key.destination, key.handler}];
    e.messages += d.messages;
    e.failures += d.failures;
    e.latency.Merge(d.latency);
    max_of(&e.max_added, d.max_added);
    max_of(&e.max_removed, d.max_removed);
  }
  for (auto it = out.sends.begin(); it != out.sends.end();) {
    it = it->second.empty() ? out.sends.erase(it) : std::next(it);
  }
  return out;
}

bool ApplyEdgeDelta(const EdgeDelta& delta, EdgeBucket* bucket) {
  const bool had = bucket->messages > 0;
  bucket->messages += delta.messages;
  bucket->failures += delta.failures;
  bucket->latency.Merge(delta.latency);
  if (bucket->messages <= 0) {
    *bucket = EdgeBucket{};
    return true;
  }
  const bool max_may_drop = had && delta.max_removed && *delta.max_removed >= bucket->max_latency;
  if (delta.max_added) {
    bucket->max_latency = had ? std::max(bucket->max_latency, *delta.max_added) : *delta.max_added;
  }
  return !max_may_drop || (delta.max_added && *delta.max_added >= *delta.max_removed);
}

}  // namespace utracker::server::rollup
