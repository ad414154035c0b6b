#include "storage/pg_url.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace utracker::server::storage {
namespace {

// A conninfo value in single quotes, with ' and \ escaped as libpq reads them.
std::string Quoted(const char* value) {
  std::string out = "'";
  for (const char* p = value; *p != '\0'; ++p) {
    if (*p == '\'' || *p == '\\') out += '\\';
    out += *p;
  }
  return out + "'";
}

}  // namespace

std::string WithConnectTimeout(const std::string& url) {
  // libpq parses the URL (or key=value string) itself, and the options come back as
  // key=value pairs plus ours: appending to the text by hand broke URLs ending in '?' and
  // misread a password holding "connect_timeout".
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {  // not parseable: libpq will say why when connecting
    PQfreemem(error);
    return url;
  }
  // A timeout set in the environment, or a service file that may set one, stays in charge.
  bool theirs = std::getenv("PGCONNECT_TIMEOUT") != nullptr;
  std::string out;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (std::strcmp(o->keyword, "connect_timeout") == 0 || std::strcmp(o->keyword, "service") == 0) {
      theirs = true;
    }
    absl::StrAppend(&out, o->keyword, "=", Quoted(o->val), " ");
  }
  PQconninfoFree(options);
  return theirs ? url : absl::StrCat(out, "connect_timeout=5");
}

}  // namespace utracker::server::storage
