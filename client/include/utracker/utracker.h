#ifndef UTRACKER_UTRACKER_H_
#define UTRACKER_UTRACKER_H_

// The micro-tracker client library: pack messages in envelopes, log events about them.
#include "utracker/client.h"   // IWYU pragma: export
#include "utracker/config.h"   // IWYU pragma: export
#include "utracker/message.h"  // IWYU pragma: export

#endif  // UTRACKER_UTRACKER_H_
