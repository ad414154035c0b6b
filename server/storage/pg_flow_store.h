#ifndef UTRACKER_SERVER_STORAGE_PG_FLOW_STORE_H_
#define UTRACKER_SERVER_STORAGE_PG_FLOW_STORE_H_

#include <memory>
#include <string>

#include "storage/flow_store.h"

namespace utracker::server::storage {

// FlowStore on libpqxx (GetFlow on plain libpq) with a small pool of connections, one borrowed
// per query; a connection that broke is dropped and a new one made on the next query.
// Thread-safe.
class PgFlowStore : public FlowStore {
 public:
  explicit PgFlowStore(std::string database_url);
  ~PgFlowStore() override;

  absl::StatusOr<v1::TrackedMessage> GetMessage(const std::string& message_id,
                                                bool include_content) override;
  absl::Status GetFlow(const std::string& message_id, bool include_content, size_t max_messages,
                       v1::GetFlowResponse* flow) override;
  absl::StatusOr<std::vector<Listed>> ListMessages(const MessageQuery& query) override;
  absl::StatusOr<std::vector<v1::ServiceInfo>> ListServices() override;
  absl::StatusOr<v1::GetServiceGraphResponse> GetServiceGraph(int64_t from_micros,
                                                              int64_t to_micros,
                                                              int64_t stuck_before) override;

 private:
  struct Pool;  // idle pqxx connections; defined where pqxx is included
  const std::unique_ptr<Pool> pool_;
};

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PG_FLOW_STORE_H_
