// Version of libsovereign and the `sov` executable.
#pragma once

#define SOV_VERSION_MAJOR 0
#define SOV_VERSION_MINOR 1
#define SOV_VERSION_PATCH 0
#define SOV_VERSION_STRING "0.1.0"
