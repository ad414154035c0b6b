#ifndef UTRACKER_SERVER_STORAGE_INBOX_BATCH_H_
#define UTRACKER_SERVER_STORAGE_INBOX_BATCH_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "rollup/hop_fold.h"
#include "utracker/v1/event.pb.h"

namespace utracker::server::storage {

// The rollup inbox of one ingest transaction as one value (rollup_inbox_batches.payload):
// what the rollup job needs of each event — message id, service, kind, time, destination.
// One row of ~45 bytes per event costs PostgreSQL far less than one inbox row per event,
// on the way in and on the way out (README "Rollups").
//
// Layout: a version byte (1), then per event: the message id's 16 bytes, the kind's number
// (1 byte), occurred_at as Unix microseconds (8 bytes, little-endian), then the service and
// the destination, each as a length (a protobuf varint) and its bytes. Written and read with
// protobuf's coded streams.

// Encodes validated events; INVALID_ARGUMENT if a message id is not a UUID.
absl::StatusOr<std::string> EncodeInboxBatch(absl::Span<const v1::Event* const> events);

// Appends the payload's `events` events to `out`; DATA_LOSS if it holds another number of
// events, is truncated or of an unknown version (then `out` is left as it was).
absl::Status DecodeInboxBatch(absl::string_view payload, size_t events,
                              std::vector<rollup::InboxEvent>* out);

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_INBOX_BATCH_H_
