#ifndef UTRACKER_SERVER_STORAGE_PG_SERVICE_GRAPH_H_
#define UTRACKER_SERVER_STORAGE_PG_SERVICE_GRAPH_H_

#include <cstdint>
#include <pqxx/pqxx>

#include "utracker/v1/flows.pb.h"

namespace utracker::server::storage {

// The service graph of the minutes starting in [from, to), read from the rollups in `tx`:
// whole hours from the hour tables, the ends of the window (and the last, not yet old,
// hours) from the minute tables. Unix microseconds. Throws pqxx exceptions.
v1::GetServiceGraphResponse ReadServiceGraph(pqxx::transaction_base& tx, int64_t from,
                                             int64_t to, int64_t stuck_before);

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PG_SERVICE_GRAPH_H_
