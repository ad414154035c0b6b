#ifndef UTRACKER_SERVER_STORAGE_PG_SERVICE_GRAPH_H_
#define UTRACKER_SERVER_STORAGE_PG_SERVICE_GRAPH_H_

#include <cstdint>
#include <pqxx/pqxx>
#include <string>

#include "utracker/v1/flows.pb.h"

namespace utracker::server::storage {

// The rollup rows of a window, for queries over the rollup tables: the minutes starting in
// [from, to), read as whole hours from the hour tables where an hour lies wholly inside the
// window and wholly before `old_before`, and as minutes elsewhere (the window's ends, the
// recent hours). Each row comes with `old`: its bucket ended by `old_before`.
class RollupWindow {
 public:
  RollupWindow(int64_t from, int64_t to, int64_t old_before);

  // SQL selecting `columns` and `old` from the `family`_hours / `family`_minutes tables
  // (family: service, send or edge); run it with Exec.
  std::string Rows(const char* family, const char* columns) const;
  pqxx::result Exec(pqxx::transaction_base& tx, const std::string& sql) const;

  int64_t from() const { return from_; }  // rounded down to its minute

 private:
  int64_t from_;
  std::string params_[5];
};

// The service graph of the minutes starting in [from, to), read from the rollups in `tx`:
// whole hours from the hour tables, the ends of the window (and the last, not yet old,
// hours) from the minute tables. Unix microseconds. Throws pqxx exceptions.
v1::GetServiceGraphResponse ReadServiceGraph(pqxx::transaction_base& tx, int64_t from,
                                             int64_t to, int64_t stuck_before);

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PG_SERVICE_GRAPH_H_
