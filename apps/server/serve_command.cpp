// `kiln serve -m MODEL [--host H] [--port P] [--parallel N] [-c N] [--api-key KEY]`: an
// OpenAI-compatible HTTP server with continuous batching, and a chat page at /. Runs until
// SIGINT or SIGTERM, then closes open streams and ends cleanly.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <ostream>
#include <thread>

#include "apps/backend_flags.h"
#include "apps/commands.h"
#include "apps/model_flags.h"
#include "apps/server/embedder.h"
#include "apps/server/http_server.h"
#include "apps/server/scheduler.h"
#include "apps/server/server_options.h"
#include "graph/error.h"
#include "models/model.h"
#include "models/session/batch_session.h"
#include "models/session/conversation.h"
#include "models/tokenizer/tokenizer.h"

namespace kiln {

int serve_command(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
    const auto flags = join_flags({model_flags(), sampling_flags(), server::server_flags(),
                                   {
                                       {"--alias", "", true, "model id in /v1/models and responses (default: the file's name)"},
                                       {"--pooling", "", true, "/v1/embeddings: mean, cls or last (default: the model's, else mean)"},
                                       {"--help", "-h", false, "show this help"},
                                   }});
    Args args("serve", flags, argv);
    if (args.has("--help")) {
        out << "usage: kiln serve -m MODEL.gguf [options]\n"
               "OpenAI-compatible API on /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models;\n"
               "/tokenize, /detokenize, /health, /metrics;\n"
               "a chat page at /. The sampling flags set the defaults a request may override.\n"
            << describe_flags(flags);
        return 0;
    }
    if (!args.positionals().empty()) throw Error("kiln serve: unexpected argument '" + args.positionals()[0] + "'");
    server::ServerOptions options = server::server_options(args);
    options.request_log = &err;
    const auto path = args.get("--model");
    if (!path) throw Error("kiln serve: no model given (-m MODEL.gguf)");
    std::optional<Pooling> pooling;
    if (auto p = args.get("--pooling")) pooling = parse_pooling(*p, "--pooling");

    const Model model = Model::load(*path, weight_memory(args));
    const Tokenizer tokenizer = Tokenizer::from_gguf(model.file());
    if (tokenizer.vocab().size() != static_cast<int32_t>(model.hparams().vocab_size)) {
        throw Error(*path + ": the tokenizer has " + std::to_string(tokenizer.vocab().size()) +
                    " tokens but the model " + std::to_string(model.hparams().vocab_size));
    }
    std::unique_ptr<Backend> backend = make_backend(args, "serve", err);
    std::unique_ptr<BatchSession> batch_owner;
    BatchOptions bo;
    bo.n_slots = options.parallel;
    bo.n_ctx = static_cast<int>(args.get_int("--ctx-size", 1, 1 << 20).value_or(0));
    bo.n_batch = static_cast<int>(args.get_int("--batch-size", 1, 1 << 16).value_or(bo.n_batch));
    bo.kv_type = args.has("--kv-f32") ? DType::F32 : DType::F16;
    // Under --backend auto a device that cannot hold the slots leaves them to the CPU.
    place_with_fallback(backend, args, "serve", err, [&](Backend& b) {
        batch_owner.reset();
        batch_owner = std::make_unique<BatchSession>(model, b, bo);
        batch_owner->prepare();  // the batched graph: weights, every slot's KV cache, its arena
    });
    BatchSession& batch = *batch_owner;

    server::ServedModel served;
    served.name = args.get("--alias").value_or(std::filesystem::path(*path).stem().string());
    served.tokenizer = &tokenizer;
    if (auto tmpl = Conversation::model_template(model.file())) {
        served.chat_template = *tmpl;
    } else {
        err << "(the model has no chat template: chat requests use ChatML)\n";
    }
    served.chat_options = Conversation::default_options(tokenizer);
    served.sampling = sampler_params(args);
    // /v1/embeddings: a session of the slots' size, made on the first request.
    SessionOptions eo;
    eo.n_ctx = batch.n_ctx();
    eo.n_batch = batch.n_batch();
    eo.kv_type = bo.kv_type;
    server::Embedder embedder(model, *backend, eo, pooling);
    served.embedder = &embedder;

    // SIGINT/SIGTERM are taken by sigwait below, not by a handler: blocked here, before any
    // thread starts, so every thread inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    server::Metrics metrics;
    server::Scheduler scheduler(batch, tokenizer, metrics, options.cache_prompt);
    server::HttpServer http(served, scheduler, metrics, options);
    const int port = http.bind();
    out << "kiln serve: " << served.name << " on http://" << options.host << ":" << port << "/ (" << options.parallel
        << (options.parallel == 1 ? " slot" : " slots") << " of " << batch.n_ctx() << " tokens, "
        << backend->name() << ")" << std::endl;
    std::atomic<bool> stopping{false};
    std::thread listener([&] {
        http.listen();
        // Listening ended by itself (not by the signal below): wake the main thread.
        if (!stopping.exchange(true)) kill(getpid(), SIGTERM);
    });
    int sig = 0;
    sigwait(&signals, &sig);
    stopping.store(true);
    out << "kiln serve: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", stopping" << std::endl;
    http.stop();
    listener.join();
    scheduler.stop();
    // The signals stay blocked: one that arrives now is dropped with the process.
    return 0;
}

}  // namespace kiln
