#include "storage/pg_url.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace utracker::server::storage {

std::string WithConnectTimeout(const std::string& url) {
  if (absl::StrContains(url, "connect_timeout")) return url;
  if (absl::StartsWith(url, "postgres://") || absl::StartsWith(url, "postgresql://")) {
    return absl::StrCat(url, absl::StrContains(url, "?") ? "&" : "?", "connect_timeout=5");
  }
  return absl::StrCat(url, url.empty() ? "" : " ", "connect_timeout=5");  // key=value form
}

}  // namespace utracker::server::storage
