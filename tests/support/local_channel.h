#ifndef UTRACKER_TESTS_SUPPORT_LOCAL_CHANNEL_H_
#define UTRACKER_TESTS_SUPPORT_LOCAL_CHANNEL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace utracker::testing {

// An insecure channel to a test server on 127.0.0.1:`port`.
inline std::shared_ptr<grpc::Channel> LocalChannel(int port) {
  return grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                             grpc::InsecureChannelCredentials());
}

}  // namespace utracker::testing

#endif  // UTRACKER_TESTS_SUPPORT_LOCAL_CHANNEL_H_
