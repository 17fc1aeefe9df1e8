// sub mode: hold many event streams open, parse them, and measure latency
// and missing, duplicated or out-of-order events.
#pragma once

#include "options.h"
#include "sockets.h"

namespace sse_load {

// Opens --streams streams to `target` and reads them until --expect events
// each, --duration or a stop signal; prints the JSON summary on stdout.
void run_sub(const Options& options, Target target);

}  // namespace sse_load
