// SPDX-License-Identifier: GPL-2.0
/* The one place that instantiates the xtcp tracepoints. */

#define CREATE_TRACE_POINTS
#include "trace.h"
