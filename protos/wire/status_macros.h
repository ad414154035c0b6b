#ifndef UTRACKER_WIRE_STATUS_MACROS_H_
#define UTRACKER_WIRE_STATUS_MACROS_H_

#include "absl/status/status.h"

// Abseil 20220623 ships no RETURN_IF_ERROR; this is our one helper for it.
// Evaluates `expr` (an absl::Status) once and returns it from the enclosing function if not OK.
#define UTRACKER_RETURN_IF_ERROR(expr)                           \
  do {                                                           \
    ::absl::Status utracker_status_tmp_ = (expr);                \
    if (!utracker_status_tmp_.ok()) return utracker_status_tmp_; \
  } while (false)

#endif  // UTRACKER_WIRE_STATUS_MACROS_H_
