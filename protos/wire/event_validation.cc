#include "wire/event_validation.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "wire/status_macros.h"
#include "wire/text.h"
#include "wire/uuid.h"

namespace utracker::wire {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

absl::Status CheckText(absl::string_view field, absl::string_view value, size_t max_bytes,
                       bool required) {
  if (required && value.empty()) return Invalid(field, "is required");
  if (value.size() > max_bytes) {
    return Invalid(field, absl::StrCat("is ", value.size(), " bytes, the limit is ", max_bytes));
  }
  if (ContainsNul(value)) return Invalid(field, "contains a NUL byte (\\x00)");
  if (!IsValidUtf8(value)) {
    return Invalid(field, absl::StrCat("is not valid UTF-8: ", QuoteForError(value)));
  }
  return absl::OkStatus();
}

// Checks and lower-cases a UUID field in place.
absl::Status CheckUuid(absl::string_view field, std::string* value, bool required) {
  if (value->empty()) {
    return required ? Invalid(field, "is required (a UUID, e.g. from UUIDv7)") : absl::OkStatus();
  }
  if (!ParseUuid(*value)) {
    return Invalid(
        field, absl::StrCat("is not a UUID (want 8-4-4-4-12 hex digits): ", QuoteForError(*value)));
  }
  absl::AsciiStrToLower(value);
  return absl::OkStatus();
}

absl::Status CheckOccurredAt(v1::Event& e, absl::Time now) {
  if (!e.has_occurred_at()) return Invalid("occurred_at", "is required");
  auto* ts = e.mutable_occurred_at();
  if (ts->nanos() < 0 || ts->nanos() > 999999999) {
    return Invalid("occurred_at", absl::StrCat("nanos ", ts->nanos(), " out of range"));
  }
  const absl::Time t = absl::FromUnixSeconds(ts->seconds()) + absl::Nanoseconds(ts->nanos());
  if (ts->seconds() < 0) {
    return Invalid("occurred_at",
                   absl::StrCat(absl::FormatTime(t, absl::UTCTimeZone()), " is before 1970-01-01"));
  }
  if (t > now + kMaxClockSkew) {
    return Invalid("occurred_at", absl::StrCat(absl::FormatTime(t, absl::UTCTimeZone()),
                                               " is more than 24h ahead of the server clock (",
                                               absl::FormatTime(now, absl::UTCTimeZone()), ")"));
  }
  ts->set_nanos(ts->nanos() / 1000 * 1000);
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateAndNormalizeLineage(absl::string_view id_field, std::string* id,
                                         std::string* parent_id, std::string* root_id,
                                         uint32_t depth) {
  UTRACKER_RETURN_IF_ERROR(CheckUuid(id_field, id, true));
  UTRACKER_RETURN_IF_ERROR(CheckUuid("parent_id", parent_id, false));
  UTRACKER_RETURN_IF_ERROR(CheckUuid("root_id", root_id, false));
  if (parent_id->empty()) {
    if (!root_id->empty() && *root_id != *id) {
      return Invalid("root_id",
                     absl::StrCat("must be empty or equal ", id_field, " when parent_id is empty"));
    }
    if (depth != 0) return Invalid("depth", "must be 0 for a root message (no parent_id)");
    *root_id = *id;
    return absl::OkStatus();
  }
  if (*parent_id == *id) return Invalid("parent_id", absl::StrCat("equals ", id_field));
  if (root_id->empty()) return Invalid("root_id", "is required when parent_id is set");
  if (*root_id == *id) {
    return Invalid("root_id", absl::StrCat("equals ", id_field, " but the message has a parent"));
  }
  if (depth == 0) return Invalid("depth", "must be at least 1 when parent_id is set");
  if (depth > kMaxDepth) {
    return Invalid("depth", absl::StrCat(depth, " is above the limit ", kMaxDepth));
  }
  return absl::OkStatus();
}

absl::Status ValidateAndNormalizeEvent(v1::Event& e, absl::Time now) {
  UTRACKER_RETURN_IF_ERROR(CheckUuid("event_id", e.mutable_event_id(), true));
  UTRACKER_RETURN_IF_ERROR(ValidateAndNormalizeLineage(
      "message_id", e.mutable_message_id(), e.mutable_parent_id(), e.mutable_root_id(), e.depth()));
  if (e.kind() == v1::EVENT_KIND_UNSPECIFIED || !v1::EventKind_IsValid(e.kind())) {
    return Invalid("kind", absl::StrCat("must be one of SENT, RECEIVED, PROCESSED, FAILED, NOTE, "
                                        "REPLAYED (got ",
                                        static_cast<int>(e.kind()), ")"));
  }
  UTRACKER_RETURN_IF_ERROR(CheckOccurredAt(e, now));
  UTRACKER_RETURN_IF_ERROR(CheckText("service", e.service(), kMaxServiceBytes, true));
  UTRACKER_RETURN_IF_ERROR(
      CheckText("origin_service", e.origin_service(), kMaxServiceBytes, false));
  UTRACKER_RETURN_IF_ERROR(CheckText("instance", e.instance(), kMaxInstanceBytes, false));
  UTRACKER_RETURN_IF_ERROR(CheckText("name", e.name(), kMaxNameBytes, false));
  UTRACKER_RETURN_IF_ERROR(CheckText("destination", e.destination(), kMaxDestinationBytes, false));
  UTRACKER_RETURN_IF_ERROR(CheckText("error", e.error(), kMaxErrorBytes, false));
  UTRACKER_RETURN_IF_ERROR(
      CheckText("content_type", e.content_type(), kMaxContentTypeBytes, false));
  if (e.content().size() > kMaxContentBytes) {
    return Invalid("content", absl::StrCat("is ", e.content().size(), " bytes, the limit is ",
                                           kMaxContentBytes));
  }
  if (static_cast<size_t>(e.attributes_size()) > kMaxAttributes) {
    return Invalid("attributes", absl::StrCat("has ", e.attributes_size(),
                                              " entries, the limit is ", kMaxAttributes));
  }
  for (const auto& [key, value] : e.attributes()) {
    UTRACKER_RETURN_IF_ERROR(CheckText("attributes key", key, kMaxAttributeKeyBytes, true));
    UTRACKER_RETURN_IF_ERROR(CheckText(absl::StrCat("attributes[", QuoteForError(key), "]"), value,
                                       kMaxAttributeValueBytes, false));
  }
  return absl::OkStatus();
}

}  // namespace utracker::wire
