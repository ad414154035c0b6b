#include "utracker/message.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client_core.h"
#include "utracker/client.h"
#include "wire/event_validation.h"
#include "wire/text.h"
#include "wire/timestamp.h"

namespace utracker {
namespace {

constexpr const char* kHeaderId = "utracker-id";
constexpr const char* kHeaderParent = "utracker-parent-id";
constexpr const char* kHeaderRoot = "utracker-root-id";
constexpr const char* kHeaderDepth = "utracker-depth";
constexpr const char* kHeaderOrigin = "utracker-origin";
constexpr const char* kHeaderCreatedAt = "utracker-created-at";

std::string ProtoContentType(const google::protobuf::Message& m) {
  return absl::StrCat("application/x-protobuf; type=", m.GetDescriptor()->full_name());
}

// Checks an envelope read from outside: lineage rules as for events, text fields sane.
absl::Status ValidateEnvelope(v1::Envelope& env) {
  absl::Status st = wire::ValidateAndNormalizeLineage(
      "id", env.mutable_id(), env.mutable_parent_id(), env.mutable_root_id(), env.depth());
  if (!st.ok())
    return absl::InvalidArgumentError(absl::StrCat("not a utracker envelope: ", st.message()));
  // An impossible time would overflow created_at() and cut ToJson() short.
  if (env.has_created_at() && !wire::IsValidTimestamp(env.created_at())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a utracker envelope: created_at out of range (", env.created_at().seconds(), " s, ",
        env.created_at().nanos(), " ns)"));
  }
  // Text a proto3 string must not hold: the envelope would not parse at the next service.
  wire::SanitizeText(env.mutable_origin_service(), wire::kMaxServiceBytes);
  wire::SanitizeText(env.mutable_content_type(), wire::kMaxContentTypeBytes);
  return absl::OkStatus();
}

// Not through nanoseconds since 1970: int64 nanoseconds end in 2262, and an envelope may
// carry any time up to 9999.
absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace

Message::Message(v1::Envelope envelope, std::shared_ptr<internal::ClientCore> client)
    : envelope_(std::make_shared<const v1::Envelope>(std::move(envelope))),
      client_(std::move(client)) {}

Message::Message(std::shared_ptr<const v1::Envelope> envelope,
                 std::shared_ptr<internal::ClientCore> client)
    : envelope_(std::move(envelope)), client_(std::move(client)) {}

// Messages made through the static functions keep no client: they log through whatever the
// process-wide client is when Log is called.
Message Message::Pack(absl::string_view content, absl::string_view content_type) {
  return Message(internal::DefaultCore()->NewEnvelope(nullptr, std::string(content), content_type),
                 nullptr);
}

Message Message::Pack(const google::protobuf::Message& content) {
  return Pack(content.SerializeAsString(), ProtoContentType(content));
}

Message Message::PackJson(absl::string_view json) { return Pack(json, kJson); }

Message Message::PackChild(absl::string_view content, absl::string_view content_type) const {
  const auto& core = client_ ? client_ : internal::DefaultCore();
  return Message(core->NewEnvelope(envelope_.get(), std::string(content), content_type), client_);
}

Message Message::PackChild(const google::protobuf::Message& content) const {
  return PackChild(content.SerializeAsString(), ProtoContentType(content));
}

Message Message::PackChildJson(absl::string_view json) const { return PackChild(json, kJson); }

absl::StatusOr<Message> Message::Unpack(absl::string_view serialized) {
  v1::Envelope env;
  const size_t first = serialized.find_first_not_of(" \t\r\n");
  bool parsed = false;
  if (first != absl::string_view::npos && serialized[first] == '{') {
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;  // envelopes from newer clients still unpack
    parsed = google::protobuf::util::JsonStringToMessage(
                 google::protobuf::StringPiece(serialized.data(), serialized.size()), &env, options)
                 .ok();
  }
  if (!parsed) {
    env.Clear();
    if (!env.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "not a utracker envelope: neither envelope JSON nor binary protobuf (", serialized.size(),
          " bytes starting ", wire::QuoteForError(serialized.substr(0, 16), 16), ")"));
    }
  }
  absl::Status st = ValidateEnvelope(env);
  if (!st.ok()) return st;
  return Message(std::move(env), nullptr);
}

absl::StatusOr<Message> Message::FromHeaders(const std::map<std::string, std::string>& headers,
                                             std::string content, absl::string_view content_type) {
  v1::Envelope env;
  auto get = [&](const char* key) -> std::string {
    auto it = headers.find(key);
    return it == headers.end() ? std::string() : it->second;
  };
  env.set_id(get(kHeaderId));
  env.set_parent_id(get(kHeaderParent));
  env.set_root_id(get(kHeaderRoot));
  if (const std::string depth = get(kHeaderDepth); !depth.empty()) {
    uint32_t d = 0;
    if (!absl::SimpleAtoi(depth, &d)) {
      return absl::InvalidArgumentError(
          absl::StrCat(kHeaderDepth, " is not a number: ", wire::QuoteForError(depth)));
    }
    env.set_depth(d);
  }
  env.set_origin_service(get(kHeaderOrigin));  // sanitised by ValidateEnvelope
  if (const std::string created = get(kHeaderCreatedAt); !created.empty()) {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, created, &t, &err)) {
      return absl::InvalidArgumentError(
          absl::StrCat(kHeaderCreatedAt, " is not RFC 3339: ", wire::QuoteForError(created)));
    }
    absl::StatusOr<google::protobuf::Timestamp> ts = wire::ToTimestamp(t, kHeaderCreatedAt);
    if (!ts.ok()) return ts.status();
    *env.mutable_created_at() = *std::move(ts);
  }
  env.set_content_type(std::string(content_type));
  env.set_content(std::move(content));
  absl::Status st = ValidateEnvelope(env);
  if (!st.ok()) return st;
  return Message(std::move(env), nullptr);
}

absl::Time Message::created_at() const { return FromTimestamp(envelope_->created_at()); }

absl::Status Message::ContentAs(google::protobuf::Message* out) const {
  if (!out->ParseFromString(envelope_->content())) {
    return absl::InvalidArgumentError(
        absl::StrCat("content does not parse as ", out->GetDescriptor()->full_name()));
  }
  return absl::OkStatus();
}

std::string Message::ToBytes() const { return envelope_->SerializeAsString(); }

std::string Message::ToJson() const {
  std::string out;
  // Cannot fail for a message with no Any fields.
  (void)google::protobuf::util::MessageToJsonString(*envelope_, &out);
  return out;
}

std::map<std::string, std::string> Message::ToHeaders() const {
  std::map<std::string, std::string> h;
  h[kHeaderId] = envelope_->id();
  if (!envelope_->parent_id().empty()) h[kHeaderParent] = envelope_->parent_id();
  h[kHeaderRoot] = envelope_->root_id();
  h[kHeaderDepth] = absl::StrCat(envelope_->depth());
  if (!envelope_->origin_service().empty()) h[kHeaderOrigin] = envelope_->origin_service();
  if (envelope_->has_created_at()) {
    h[kHeaderCreatedAt] = absl::FormatTime(absl::RFC3339_full, created_at(), absl::UTCTimeZone());
  }
  return h;
}

void Message::Log(absl::string_view text) const {
  LogOptions options;
  options.name = std::string(text);
  Log(kNote, options);
}

void Message::Log(EventKind kind, const LogOptions& options) const {
  if (client_) {
    client_->Log(envelope_, kind, options);
  } else {
    internal::DefaultCore()->Log(envelope_, kind, options);
  }
}

}  // namespace utracker
