// churn mode: open a stream, wait for its first bytes, close it, repeat.
#pragma once

#include "options.h"
#include "sockets.h"

namespace sse_load {

// Runs --concurrency cycles at a time against `target` until --cycles,
// --duration or a stop signal; prints the JSON summary on stdout.
void run_churn(const Options& options, Target target);

}  // namespace sse_load
