#pragma once
// Flags and set-up shared by the commands that run a model (run, chat, tokenize): loading the
// model and tokenizer, choosing the backend, the session's context, and the sampler.
#include <memory>
#include <ostream>
#include <vector>

#include "apps/args.h"
#include "backends/backend.h"
#include "models/model.h"
#include "models/session/sampler.h"
#include "models/session/session.h"
#include "models/tokenizer/tokenizer.h"

namespace kiln {

std::vector<FlagSpec> model_flags();     // backend_flags(), -m, -c, -b, --kv-f32
std::vector<FlagSpec> sampling_flags();  // --temp, --top-k, ..., --seed

struct LoadedModel {
    std::unique_ptr<Model> model;
    std::unique_ptr<Tokenizer> tokenizer;
    std::unique_ptr<Backend> backend;
    std::unique_ptr<Session> session;
};

// Loads the model and puts it on the backend now (weights, KV cache, the one-token graph), so a
// device that cannot hold it fails before anything is printed, or under `--backend auto` falls
// back to the CPU with a notice on `notes` (backend_flags.h). Throws kiln::Error for a missing
// -m, a bad value, or a model kiln cannot run; vk::DeviceError when the device asked for cannot
// hold it.
// `embeddings`: the session outputs hidden states, not logits (models/session/embedding.h).
LoadedModel load_model(const Args& args, const std::string& command, std::ostream& notes, bool embeddings = false);
SamplerParams sampler_params(const Args& args);

// Concatenates the flag lists.
std::vector<FlagSpec> join_flags(std::initializer_list<std::vector<FlagSpec>> lists);

}  // namespace kiln
