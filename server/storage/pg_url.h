#ifndef UTRACKER_SERVER_STORAGE_PG_URL_H_
#define UTRACKER_SERVER_STORAGE_PG_URL_H_

#include <string>

namespace utracker::server::storage {

// `url` (a postgresql:// URL or a key=value string) as a key=value string with a 5 s
// connect_timeout, unless it sets one itself (or PGCONNECT_TIMEOUT or a service file may);
// unchanged if libpq cannot parse it. libpq waits for a connection without limit by default:
// a database host that drops packets would hold the server's start, its health checks and its
// queries for the kernel's connection retries (about two minutes) each. utracker-server's
// main applies it once to --database_url, so every connection the server makes has it.
std::string WithConnectTimeout(const std::string& url);

}  // namespace utracker::server::storage

#endif  // UTRACKER_SERVER_STORAGE_PG_URL_H_
