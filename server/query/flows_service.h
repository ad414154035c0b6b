#ifndef UTRACKER_SERVER_QUERY_FLOWS_SERVICE_H_
#define UTRACKER_SERVER_QUERY_FLOWS_SERVICE_H_

#include <memory>

#include "absl/time/time.h"
#include "query/message_state.h"
#include "query/query_executor.h"
#include "storage/flow_store.h"
#include "utracker/v1/flows.grpc.pb.h"

namespace utracker::server::query {

// utracker.v1.Flows on the callback API: checks the request at once (INVALID_ARGUMENT), runs
// the query on the QueryExecutor, derives states and hop timings, and finishes the RPC from
// there. Thread-safe; the store and executor must outlive it.
class FlowsService final : public v1::Flows::CallbackService {
 public:
  // Largest flow returned by one GetFlow (the response says `truncated` beyond it).
  static constexpr size_t kMaxFlowMessages = 10000;

  // `deadlines`: how long after its send an unhandled message counts as stuck (message
  // state and graph).
  FlowsService(storage::FlowStore* store, QueryExecutor* executor,
               StuckDeadlines deadlines = StuckDeadlines{});
  ~FlowsService() override;

  grpc::ServerUnaryReactor* GetMessage(grpc::CallbackServerContext* context,
                                       const v1::GetMessageRequest* request,
                                       v1::GetMessageResponse* response) override;
  grpc::ServerUnaryReactor* GetFlow(grpc::CallbackServerContext* context,
                                    const v1::GetFlowRequest* request,
                                    v1::GetFlowResponse* response) override;
  grpc::ServerUnaryReactor* ListMessages(grpc::CallbackServerContext* context,
                                         const v1::ListMessagesRequest* request,
                                         v1::ListMessagesResponse* response) override;
  grpc::ServerUnaryReactor* ListServices(grpc::CallbackServerContext* context,
                                         const v1::ListServicesRequest* request,
                                         v1::ListServicesResponse* response) override;

  grpc::ServerUnaryReactor* GetServiceGraph(grpc::CallbackServerContext* context,
                                            const v1::GetServiceGraphRequest* request,
                                            v1::GetServiceGraphResponse* response) override;

  static constexpr uint32_t kDefaultPageSize = 50;
  static constexpr uint32_t kMaxPageSize = 1000;

 private:
  storage::FlowStore* const store_;
  QueryExecutor* const executor_;
  const StuckDeadlines deadlines_;
  // Puts each GetFlow's messages on an arena; used by gRPC while the service is registered.
  const std::unique_ptr<grpc::MessageAllocator<v1::GetFlowRequest, v1::GetFlowResponse>>
      flow_allocator_;
};

}  // namespace utracker::server::query

#endif  // UTRACKER_SERVER_QUERY_FLOWS_SERVICE_H_
