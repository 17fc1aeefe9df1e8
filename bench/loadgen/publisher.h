// pub mode: publish events at a set rate over keep-alive connections.
#pragma once

#include "options.h"
#include "sockets.h"

namespace sse_load {

// POSTs --events events to `target` at --rate until all are answered,
// --duration or a stop signal; prints the JSON summary on stdout.
void run_pub(const Options& options, Target target);

}  // namespace sse_load
