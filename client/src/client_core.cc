#include "client_core.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <exception>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "wire/event_validation.h"
#include "wire/text.h"
#include "wire/uuid.h"

namespace utracker::internal {
namespace {

// Sanitises a user-supplied text field and moves it into place.
void SetText(std::string value, size_t max_bytes, std::string* out) {
  wire::SanitizeText(&value, max_bytes);
  *out = std::move(value);
}

}  // namespace

ClientCore::ClientCore(Config config, std::unique_ptr<client::internal::EventSink> sink)
    : config_(std::move(config)) {
  if (sink) {
    streamer_ = std::make_unique<client::internal::Streamer>(
        std::move(sink), config_,
        [this](client::internal::PendingEvent& p, v1::Event* out) { BuildEvent(p, out); });
  }
}

v1::Envelope ClientCore::NewEnvelope(const v1::Envelope* parent, std::string content,
                                     absl::string_view content_type) const {
  v1::Envelope env;
  env.set_id(wire::NewUuidV7());
  if (parent != nullptr) {
    env.set_parent_id(parent->id());
    env.set_root_id(parent->root_id().empty() ? parent->id() : parent->root_id());
    // Depth saturates at the largest the server takes: a longer chain is most likely a loop,
    // and its messages should still be tracked (and a hostile 2^32-1 must not wrap to 0).
    env.set_depth(std::min<uint32_t>(parent->depth(), wire::kMaxDepth - 1) + 1);
  } else {
    env.set_root_id(env.id());
  }
  *env.mutable_created_at() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(absl::Now()));
  env.set_origin_service(config_.service);
  // Sanitised here too: the envelope is parsed by the next service, and protobuf refuses a
  // whole message whose string field holds invalid UTF-8.
  SetText(std::string(content_type), wire::kMaxContentTypeBytes, env.mutable_content_type());
  env.set_content(std::move(content));
  return env;
}

std::optional<std::string> ClientCore::FilterPayload(const v1::Envelope& envelope) {
  std::string content = envelope.content();
  for (const PayloadFilter& filter : config_.filters) {
    try {
      absl::StatusOr<std::string> next = filter(content, envelope.content_type());
      if (!next.ok()) return std::nullopt;
      content = *std::move(next);
    } catch (...) {
      return std::nullopt;  // a throwing filter drops the payload; it never leaks unfiltered
    }
  }
  if (content.size() > wire::kMaxContentBytes) return std::nullopt;
  return content;
}

void ClientCore::Log(std::shared_ptr<const v1::Envelope> envelope, EventKind kind,
                     const LogOptions& options) {
  if (!streamer_) {
    if (!warned_disabled_.exchange(true) && config_.diagnostics) {
      config_.diagnostics(
          "Log() called before utracker::Configure() (or on a message without a client): "
          "events are dropped");
    }
    return;
  }
  try {
    client::internal::PendingEvent p;
    p.kind = kind;
    p.at = absl::Now();
    p.options = options;
    p.attach_payload = !options.hide_payload &&
                       (options.with_payload || (config_.attach_payload_on_sent && kind == kSent));
    // What the buffered event keeps alive, for max_buffered_bytes. An envelope whose content
    // is not sent is not kept whole: a big message would stay in memory until the event is
    // sent (and the buffer bound would say nothing about bytes).
    p.bytes = sizeof(p) + options.name.size() + options.destination.size() + options.error.size();
    for (const auto& [key, value] : options.attributes) {
      p.bytes += key.size() + value.size() + 64;  // the map node
    }
    constexpr size_t kKeepWholeUpTo = 1024;
    const size_t content = envelope->content().size();
    // Over what an event may carry, a payload cannot be sent — unless a filter shrinks it,
    // which is trusted up to half the buffer.
    p.payload_too_large =
        p.attach_payload && content > wire::kMaxContentBytes &&
        (config_.filters.empty() || content > config_.max_buffered_bytes / 2);
    if ((!p.attach_payload || p.payload_too_large) && content > kKeepWholeUpTo) {
      auto lineage = std::make_shared<v1::Envelope>();
      lineage->set_id(envelope->id());
      lineage->set_parent_id(envelope->parent_id());
      lineage->set_root_id(envelope->root_id());
      lineage->set_depth(envelope->depth());
      lineage->set_origin_service(envelope->origin_service());
      envelope = std::move(lineage);
    }
    p.bytes += sizeof(v1::Envelope) + envelope->id().size() * 3 +
               envelope->origin_service().size() + envelope->content().size();
    p.envelope = std::move(envelope);
    streamer_->Enqueue(std::move(p));
  } catch (...) {
    // Only allocation can throw here; the service must not pay for it.
  }
}

void ClientCore::BuildEvent(client::internal::PendingEvent& p, v1::Event* e) {
  const v1::Envelope& envelope = *p.envelope;
  LogOptions& options = p.options;
  e->set_event_id(wire::NewUuidV7At(p.at));
  e->set_message_id(envelope.id());
  e->set_parent_id(envelope.parent_id());
  e->set_root_id(envelope.root_id());
  e->set_depth(envelope.depth());
  e->set_service(config_.service);
  e->set_instance(config_.instance);
  if (!envelope.origin_service().empty()) {
    SetText(envelope.origin_service(), wire::kMaxServiceBytes, e->mutable_origin_service());
  }
  e->set_kind(p.kind);
  *e->mutable_occurred_at() =
      google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(p.at));
  if (!options.name.empty())
    SetText(std::move(options.name), wire::kMaxNameBytes, e->mutable_name());
  if (!options.destination.empty()) {
    SetText(std::move(options.destination), wire::kMaxDestinationBytes, e->mutable_destination());
  }
  if (!options.error.empty()) {
    SetText(std::move(options.error), wire::kMaxErrorBytes, e->mutable_error());
  }
  size_t attributes = 0;
  for (auto& [key, value] : options.attributes) {
    if (++attributes > wire::kMaxAttributes) break;
    std::string k = key;
    wire::SanitizeText(&k, wire::kMaxAttributeKeyBytes);
    if (k.empty()) continue;
    SetText(std::move(value), wire::kMaxAttributeValueBytes, &(*e->mutable_attributes())[k]);
  }
  if (!p.attach_payload) return;
  std::optional<std::string> payload;
  if (!p.payload_too_large) payload = FilterPayload(envelope);
  if (payload) {
    e->set_content(*std::move(payload));
    SetText(envelope.content_type(), wire::kMaxContentTypeBytes, e->mutable_content_type());
    return;
  }
  payloads_dropped_.fetch_add(1, std::memory_order_relaxed);
  auto* attrs = e->mutable_attributes();
  constexpr const char* kNote = "utracker.payload";
  if (static_cast<size_t>(attrs->size()) >= wire::kMaxAttributes && attrs->count(kNote) == 0) {
    // Room for the note, which says why there is no payload (replay needs to know): an event
    // over the limit would be rejected whole. The greatest key gives way.
    auto last = attrs->begin();
    for (auto it = attrs->begin(); it != attrs->end(); ++it) {
      if (it->first > last->first) last = it;
    }
    attrs->erase(last);
  }
  (*attrs)[kNote] = p.payload_too_large ? "too large" : "dropped by filter";
}

}  // namespace utracker::internal
