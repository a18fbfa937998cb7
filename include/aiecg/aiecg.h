/* Umbrella header: the whole public API of libaiecg. */
#ifndef AIECG_AIECG_H
#define AIECG_AIECG_H

#include "aiecg/core.h"
#include "aiecg/record.h"
#include "aiecg/io.h"
#include "aiecg/wfdb.h"
#include "aiecg/dsp.h"
#include "aiecg/nn.h"
#include "aiecg/analyze.h"

#endif
