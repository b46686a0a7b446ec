// Status and Result<T> are part of the public API; see sovereign/status.h.
#pragma once

#include "sovereign/status.h"
