// A service author's program, built outside this project against the *installed* library
// (pkg-config utracker): it packs, logs, unpacks what another process packed, and makes
// children — the way a service uses micro-tracker.
//
//   service_author SERVER pack SERVICE FILE       writes a packed message to FILE
//   service_author SERVER handle SERVICE FILE     unpacks FILE, logs, replies with a child
//   service_author SERVER garbage                 Unpack of garbage must fail cleanly
#include <fstream>
#include <iostream>
#include <sstream>

#include "utracker/utracker.h"

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const std::string server = argv[1], mode = argv[2];
  if (mode == "garbage") {
    auto m = utracker::Message::Unpack("this is not an envelope \xff\x00");
    std::cout << (m.ok() ? "accepted garbage" : "rejected: " + std::string(m.status().message()))
              << "\n";
    return m.ok() ? 1 : 0;
  }
  if (argc < 5) return 2;
  utracker::Config config;
  config.service = argv[3];
  config.server = server;
  config.filters.push_back(utracker::RedactJsonKeys({"password"}));
  if (!utracker::Configure(config).ok()) return 2;
  const std::string file = argv[4];

  if (mode == "pack") {
    utracker::Message m = utracker::Message::PackJson(R"({"command":"list","password":"x"})");
    utracker::LogOptions sent;
    sent.destination = "bob";
    sent.with_payload = true;
    m.Log(utracker::kSent, sent);
    std::ofstream(file, std::ios::binary) << m.ToBytes();
    std::cout << m.id() << "\n";
  } else if (mode == "handle") {
    std::stringstream in;
    in << std::ifstream(file, std::ios::binary).rdbuf();
    absl::StatusOr<utracker::Message> m = utracker::Message::Unpack(in.str());
    if (!m.ok()) {
      std::cerr << m.status() << "\n";
      return 1;
    }
    m->Log(utracker::kReceived);
    m->Log("processing_content");
    utracker::Message child = m->PackChild("reply", "text/plain");
    utracker::LogOptions sent;
    sent.destination = m->origin_service();
    child.Log(utracker::kSent, sent);
    utracker::Message grandchild = utracker::Message::Unpack(child.ToJson())->PackChild("again");
    grandchild.Log(utracker::kNote);
    m->Log(utracker::kProcessed);
    std::cout << m->id() << " " << child.id() << " " << grandchild.id() << " " << grandchild.depth()
              << "\n";
  } else {
    return 2;
  }
  const absl::Status flushed = utracker::Flush(absl::Seconds(30));
  utracker::Shutdown(absl::Seconds(1));
  if (!flushed.ok()) {
    std::cerr << flushed << "\n";
    return 3;
  }
  return 0;
}
