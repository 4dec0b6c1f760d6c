// tandem.hpp — everything in one include.
#pragma once

#include "tandem/affinity.hpp"
#include "tandem/channel.hpp"
#include "tandem/errors.hpp"
#include "tandem/future.hpp"
#include "tandem/io_executor.hpp"
#include "tandem/metrics.hpp"
#include "tandem/pipeline.hpp"
#include "tandem/process.hpp"
#include "tandem/runtime.hpp"
#include "tandem/serialize.hpp"
#include "tandem/shared.hpp"
#include "tandem/shared_buffer.hpp"
#include "tandem/sync.hpp"
#include "tandem/task.hpp"
#include "tandem/when_all.hpp"
