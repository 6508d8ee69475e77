#include "apps/server/http_server.h"

#include <sys/socket.h>

#include <csignal>
#include <ctime>
#include <functional>
#include <iterator>
#include <optional>
#include <thread>

// CMake defines what Debian built libcpp-httplib.so with (apps/CMakeLists.txt: kiln_httplib).
#include <httplib.h>

#include "apps/server/guarded_server.h"
#include "apps/server/openai_json.h"
#include "apps/server/request_log.h"
#include "apps/server/web_page.h"
#include "models/chat/json_value.h"
#include "models/chat/tool_calls.h"
#include "models/grammar/grammar.h"
#include "graph/error.h"
#include "models/tokenizer/tokenizer.h"

namespace kiln::server {
namespace {

constexpr auto kPoll = std::chrono::milliseconds(200);     // how often a waiting handler looks up
constexpr auto kKeepAlive = std::chrono::seconds(2);        // SSE comment while a stream waits
// How long stop() lets open streams send their final chunk (each looks up every kPoll).
constexpr auto kStreamsGrace = std::chrono::seconds(2);

// The tokens of the request this thread is serving, for its log line: the handlers, the
// stream's content provider and httplib's logger all run on the connection's thread.
struct RequestTokens {
    int prompt = -1;  // -1: nothing generated
    int completion = -1;
};
thread_local RequestTokens t_tokens;

void send_error(httplib::Response& res, const ApiError& e) {
    res.status = e.status;
    res.set_content(error_json(e), "application/json");
}

// The device holding the model is gone: no request can be served any more (503).
ApiError device_lost(const std::string& why) { return ApiError(503, "server_error", "device_lost", why); }

// OpenAI's shape for errors cpp-httplib answers by itself (404, 413, bad HTTP).
ApiError status_error(int status) {
    switch (status) {
        case 404: return ApiError(404, "invalid_request_error", "not_found", "no such route");
        case 405: return ApiError(405, "invalid_request_error", "method_not_allowed", "method not allowed");
        case 408: return ApiError(408, "invalid_request_error", "request_timeout", "the request arrived too slowly");
        case 413: return ApiError(413, "invalid_request_error", "request_too_large", "the request body is too large");
        case 414: return ApiError(414, "invalid_request_error", "uri_too_long", "the request URI is too long");
        case 431:
            return ApiError(431, "invalid_request_error", "headers_too_large",
                            "the request line and headers are too large");
        default: break;
    }
    if (status >= 500) return ApiError(status, "server_error", "internal_error", "internal server error");
    return ApiError(status, "invalid_request_error", "bad_request", "bad request");
}

bool equal_constant_time(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

ApiError too_large(size_t max_bytes) {
    return ApiError(413, "invalid_request_error", "request_too_large",
                    "the request body is over " + std::to_string(max_bytes) + " bytes");
}

// Reads a request body as httplib decodes it (chunks, gzip), stopping past `max_bytes`; kept
// in full only when `keep`. Throws ApiError: 413 past the limit, 408 when it came too slowly.
std::string read_body(const httplib::Request& req, const httplib::ContentReader& reader, size_t max_bytes, bool keep) {
    if (req.is_multipart_form_data()) {
        // httplib's content reader cannot read multipart bodies without a part handler.
        throw ApiError(415, "invalid_request_error", "unsupported_media_type", "send the request as JSON");
    }
    std::string body;
    size_t total = 0;
    bool over = false;
    const bool ok = reader([&](const char* data, size_t n) {
        over = n > max_bytes - total;
        if (over) return false;
        total += n;
        if (keep) body.append(data, n);
        return true;
    });
    if (ok) return body;
    switch (current_read_failure()) {
        case ReadFailure::TooLarge: throw too_large(max_bytes);
        case ReadFailure::Timeout: throw status_error(408);
        case ReadFailure::Stopping: throw ApiError(503, "server_error", "shutting_down", "the server is shutting down");
        case ReadFailure::None: break;
    }
    if (over) throw too_large(max_bytes);
    throw bad_request("invalid_body", "the request body is malformed (chunks or compression)");
}

std::string sse(const std::string& payload) { return "data: " + payload + "\n\n"; }

// What the client of a request that ended with Finish::Error is told.
ApiError job_error(const Job& job) {
    switch (job.failure()) {
        case Failure::OutOfDeviceMemory:
            return ApiError(500, "server_error", "out_of_device_memory", job.error());
        case Failure::DeviceLost: return device_lost(job.error());
        case Failure::ShuttingDown: return ApiError(503, "server_error", "shutting_down", job.error());
        case Failure::None:
        case Failure::Generation: break;
    }
    return ApiError(500, "server_error", "generation_failed", job.error());
}

// What a request's choices used: its prompt once, every choice's completion.
Usage usage_of(const std::vector<std::shared_ptr<Job>>& jobs) {
    Usage u{jobs.front()->prompt_tokens(), 0};
    for (const auto& job : jobs) u.completion_tokens += job->completion_tokens();
    return u;
}

void cancel_all(const std::vector<std::shared_ptr<Job>>& jobs) {
    for (const auto& job : jobs) job->cancel();
}

// Waits for every choice to finish and answers them in one body; throws ApiError when one
// fails or the server stops first (the others are cancelled).
void answer_whole(httplib::Response& res, const std::vector<std::shared_ptr<Job>>& jobs, const ResponseInfo& info,
                  const std::atomic<bool>& stopping) {
    std::vector<ChoiceText> choices(jobs.size());
    for (size_t i = 0; i < jobs.size(); ++i) {
        Job& job = *jobs[i];
        for (;;) {
            Job::Update u = job.take(kPoll);
            choices[i].text += u.text();
            std::move(u.logprobs.begin(), u.logprobs.end(), std::back_inserter(choices[i].logprobs));
            if (u.finish == Finish::Error) {
                cancel_all(jobs);
                throw job_error(job);
            }
            if (u.finish == Finish::Cancelled || (u.finish == Finish::Running && stopping.load())) {
                cancel_all(jobs);
                throw ApiError(503, "server_error", "shutting_down", "the server is shutting down");
            }
            if (u.finish != Finish::Running) {
                choices[i].finish = u.finish;
                break;
            }
        }
    }
    const Usage usage = usage_of(jobs);
    t_tokens = {usage.prompt_tokens, usage.completion_tokens};
    res.set_content(completion_json(info, choices, usage), "application/json");
}

// Streaming: each piece of text becomes one chunk of its choice; each choice's last chunk
// carries its finish_reason, the last of all also the usage, then [DONE]. Choices are polled
// in turn. When the client leaves, a write fails or cpp-httplib ends the stream, and the
// releaser cancels the jobs so their slots are freed at the next step. When the server stops,
// the jobs are cancelled and the stream ends the same way, with finish_reason "stop" and the
// usage so far. `stopping` and `open_streams` (the streams not yet ended, which stop() waits
// for) belong to the HttpServer, which outlives its connections.
void answer_stream(httplib::Response& res, std::vector<std::shared_ptr<Job>> jobs, const ResponseInfo& info,
                   const std::atomic<bool>& stopping, std::atomic<int>& open_streams) {
    struct ChoiceStream {
        bool first = true;
        bool done = false;
        // Log-probabilities of tokens whose text has not been sent yet (held back by a stop
        // text or a split character): they go with the next chunk.
        std::vector<GeneratedLogprob> logprobs;
        std::string held;  // with tools: the reply so far, sent when it ends
    };
    struct Stream {
        Stream(std::vector<std::shared_ptr<Job>> j, const ResponseInfo& i, std::atomic<int>& open)
            : jobs(std::move(j)), choices(jobs.size()), info(i), open_streams(open) {
            open_streams.fetch_add(1);
        }
        ~Stream() { open_streams.fetch_sub(1); }
        Stream(const Stream&) = delete;
        Stream& operator=(const Stream&) = delete;
        std::vector<std::shared_ptr<Job>> jobs;
        std::vector<ChoiceStream> choices;
        ResponseInfo info;
        std::atomic<int>& open_streams;
        size_t next = 0;  // the choice polled next
        std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
    };
    auto st = std::make_shared<Stream>(std::move(jobs), info, open_streams);
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [&stopping, st](size_t, httplib::DataSink& sink) {
            // The next choice still running; its update (waiting at most kPoll over all of them).
            size_t i = st->next;
            while (st->choices[i].done) i = (i + 1) % st->jobs.size();
            st->next = (i + 1) % st->jobs.size();
            Job& job = *st->jobs[i];
            ChoiceStream& c = st->choices[i];
            const auto wait = std::chrono::milliseconds(kPoll.count() / static_cast<long>(st->jobs.size()) + 1);
            Job::Update u = job.take(wait);
            const bool shutdown = u.finish == Finish::Running && stopping.load();
            if (shutdown) {
                // End the job, and the choice once the engine has (at its next step: only then
                // are the job's counts final), with what it generated meanwhile.
                job.cancel();
                for (int k = 0; k < 10 && u.finish == Finish::Running; ++k) {
                    Job::Update more = job.take(kPoll);
                    u.pieces.insert(u.pieces.end(), more.pieces.begin(), more.pieces.end());
                    u.logprobs.insert(u.logprobs.end(), more.logprobs.begin(), more.logprobs.end());
                    u.finish = more.finish;
                }
                if (u.finish == Finish::Running || u.finish == Finish::Cancelled) u.finish = Finish::Stop;
            }
            const int index = static_cast<int>(i);
            std::string out;
            std::move(u.logprobs.begin(), u.logprobs.end(), std::back_inserter(c.logprobs));
            for (const std::string& piece : u.pieces) {  // a chunk per token's text, as OpenAI sends
                if (st->info.tool_format) {
                    c.held += piece;
                    continue;
                }
                out += sse(chunk_json(st->info, index, piece, c.first, c.logprobs));
                c.logprobs.clear();
                c.first = false;
            }
            const Finish finish = u.finish;
            bool called = false;
            if (st->info.tool_format && finish != Finish::Running && finish != Finish::Error && finish != Finish::Cancelled) {
                for (const std::string& chunk : held_reply_chunks(st->info, index, c.held, c.logprobs, called)) {
                    out += sse(chunk);
                }
                c.logprobs.clear();
            }
            bool end = false;
            if (finish == Finish::Error || finish == Finish::Cancelled) {
                out += sse(error_json(job_error(job)));
                cancel_all(st->jobs);
                end = true;
            } else if (finish != Finish::Running) {
                c.done = true;
                end = std::all_of(st->choices.begin(), st->choices.end(), [](const ChoiceStream& x) { return x.done; });
                const Usage usage = usage_of(st->jobs);
                out += sse(final_chunk_json(st->info, index, finish, end ? &usage : nullptr, c.logprobs, called));
                c.logprobs.clear();
                if (end) {
                    t_tokens = {usage.prompt_tokens, usage.completion_tokens};  // the log line says the same
                    out += "data: [DONE]\n\n";
                }
            }
            const auto now = std::chrono::steady_clock::now();
            if (out.empty() && now - st->last_write > kKeepAlive) out = ": keep-alive\n\n";
            if (!out.empty()) {
                if (!sink.write(out.data(), out.size())) return false;
                st->last_write = now;
            }
            if (end) sink.done();
            return true;
        },
        [st](bool) { cancel_all(st->jobs); });
}

// Why a request is refused from its headers alone, before its body is read, if it is.
std::optional<ApiError> refusal(const httplib::Request& req, const ServerOptions& options) {
    const long long length = content_length(req);
    if (req.method == "PRI") {
        // HTTP/2's preface: no route takes it, and httplib would read its body into memory,
        // inflating it when compressed, with no limit.
        return status_error(405);
    }
    if (length < 0) return bad_request("invalid_content_length", "Content-Length is not one plain number");
    // httplib would read and drop all of an oversized body first.
    if (static_cast<unsigned long long>(length) > options.max_body_bytes) return too_large(options.max_body_bytes);
    if (!options.api_key.empty() && req.path.rfind("/v1/", 0) == 0) {
        const std::string auth = req.get_header_value("Authorization");
        if (!equal_constant_time(auth, "Bearer " + options.api_key)) {
            return ApiError(401, "authentication_error", "invalid_api_key",
                            auth.empty() ? "no API key: send 'Authorization: Bearer KEY'" : "wrong API key");
        }
    }
    return std::nullopt;
}

ConnectionLimits connection_limits(const ServerOptions& o) {
    ConnectionLimits l;
    l.header_timeout = o.header_timeout;
    l.request_timeout = o.request_timeout;
    l.max_body_bytes = o.max_body_bytes;
    // Room for chunk framing and for a compressed body that inflates to under the limit.
    l.max_body_wire_bytes = 2 * o.max_body_bytes + (64 << 10);
    return l;
}

}  // namespace

HttpServer::HttpServer(ServedModel model, Scheduler& scheduler, Metrics& metrics, const ServerOptions& options)
    : model_(std::move(model)), scheduler_(scheduler), metrics_(metrics), options_(options),
      created_(static_cast<int64_t>(std::time(nullptr))),
      http_(std::make_unique<GuardedServer>(connection_limits(options))),
      log_(std::make_unique<RequestLog>(options.request_log)) {
    std::signal(SIGPIPE, SIG_IGN);
    // One thread per open connection: every slot streaming, as many clients queued, and 64
    // more, so that /health and new requests find a thread while a few dozen slow or idle
    // clients wait out their deadlines (guarded_server.h).
    const size_t threads = options_.http_threads > 0 ? static_cast<size_t>(options_.http_threads)
                                                     : static_cast<size_t>(2 * scheduler_.n_slots() + 64);
    http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // cpp-httplib's default is SO_REUSEPORT, which lets a second server bind the same port and
    // take half the connections; SO_REUSEADDR alone still allows a quick restart.
    http_->set_socket_options([](socket_t sock) {
        const int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    routes();
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind() {
    int port = options_.port;
    if (port == 0) {
        port = http_->bind_to_any_port(options_.host);
        if (port < 0) throw Error("kiln serve: cannot listen on " + options_.host);
    } else if (!http_->bind_to_port(options_.host, port)) {
        throw Error("kiln serve: cannot listen on " + options_.host + ":" + std::to_string(port) +
                    " (in use, or not an address of this machine)");
    }
    http_->widen_backlog();
    return port;
}

void HttpServer::listen() { http_->listen_after_bind(); }

void HttpServer::stop() {
    stopping_.store(true);
    // httplib stops calling a stream's content provider once it is stopped: first let each
    // open stream send its final chunk (a moment), so no client sees a bare close.
    const auto until = std::chrono::steady_clock::now() + kStreamsGrace;
    while (open_streams_.load() > 0 && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    http_->stop();
}

void HttpServer::routes() {
    httplib::Server& s = *http_;
    // Both run before httplib reads any body: what is refused here is never read, and a
    // client that sent Expect: 100-continue is refused before it sends the body.
    s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        t_tokens = {};
        const std::optional<ApiError> e = refusal(req, options_);
        if (!e) return httplib::Server::HandlerResponse::Unhandled;
        send_error(res, *e);
        return httplib::Server::HandlerResponse::Handled;
    });
    s.set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
        const std::optional<ApiError> e = refusal(req, options_);
        if (!e) return 100;
        send_error(res, *e);
        return e->status;
    });
    // Called for every status >= 400; fills in the body where cpp-httplib answered by itself.
    s.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request&, httplib::Response& res) {
        metrics_.requests_failed.fetch_add(1);
        if (res.body.empty() && res.status == 400) {
            // The headers did not arrive in time or in size (guarded_server.h).
            if (current_read_failure() == ReadFailure::Timeout) res.status = 408;
            if (current_read_failure() == ReadFailure::TooLarge) res.status = 431;
        }
        if (res.body.empty()) send_error(res, status_error(res.status));
        return httplib::Server::HandlerResponse::Handled;
    }));
    s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        send_error(res, status_error(500));
    });
    // Called once a response has been written (a stream: when it ended).
    s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
        RequestLogEntry e;
        e.method = req.method;
        e.path = req.path;
        e.status = res.status;
        e.prompt_tokens = t_tokens.prompt;
        e.completion_tokens = t_tokens.completion;
        e.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - current_request_start()).count();
        t_tokens = {};
        log_->write(e);
    });

    s.Get("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(std::string(web_page()), "text/html; charset=utf-8");
    });
    // Answers while the device is lost too, with 503: load balancers see the server can no
    // longer generate, and /v1/models and /metrics still answer.
    s.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
        std::optional<ApiError> problem;
        if (auto why = scheduler_.unavailable()) problem = device_lost(*why);
        if (problem) res.status = problem->status;
        res.set_content(health_json(problem), "application/json");
    });
    s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(metrics_.prometheus(), "text/plain; version=0.0.4");
    });
    s.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(models_json(model_.name, created_), "application/json");
    });
    body_routes();
}

void HttpServer::body_routes() {
    httplib::Server& s = *http_;
    // Bodies are read through read_body, which stops at --max-body however they are sent;
    // httplib's own reading bounds only a declared Content-Length.
    for (const bool chat : {true, false}) {
        s.Post(chat ? "/v1/chat/completions" : "/v1/completions",
               [this, chat](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
                   std::string body;
                   try {
                       body = read_body(req, reader, options_.max_body_bytes, /*keep=*/true);
                   } catch (const ApiError& e) {
                       send_error(res, e);
                       return;
                   }
                   completion(body, res, chat);
               });
    }
    using JsonRoute = std::function<std::string(const std::string&)>;
    const std::pair<const char*, JsonRoute> json_routes[] = {
        {"/tokenize", [this](const std::string& b) { return tokenize(b); }},
        {"/detokenize", [this](const std::string& b) { return detokenize(b); }},
        {"/v1/embeddings", [this](const std::string& b) { return embeddings(b); }},
        {"/embeddings", [this](const std::string& b) { return embeddings(b); }},
    };
    for (const auto& route : json_routes) {
        const JsonRoute answer = route.second;  // a copy: clang 14 cannot capture a structured binding
        s.Post(route.first, [this, answer](const httplib::Request& req, httplib::Response& res,
                                    const httplib::ContentReader& reader) {
            try {
                const std::string body = read_body(req, reader, options_.max_body_bytes, /*keep=*/true);
                res.set_content(answer(body), "application/json");
            } catch (const ApiError& e) {
                send_error(res, e);
            }
        });
    }
    // Any other route with a body: read (and dropped) to the same limit, so that an oversized
    // body gets 413 on every path, as with Content-Length, and a small one 404.
    const httplib::Server::HandlerWithContentReader no_route =
        [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
            try {
                read_body(req, reader, options_.max_body_bytes, /*keep=*/false);
                send_error(res, status_error(404));
            } catch (const ApiError& e) {
                send_error(res, e);
            }
        };
    s.Post(".*", no_route);
    s.Put(".*", no_route);
    s.Patch(".*", no_route);
    s.Delete(".*", no_route);
}

std::vector<int32_t> HttpServer::prompt_tokens(const CompletionRequest& r) const {
    const Tokenizer& tok = *model_.tokenizer;
    if (!r.chat) return tok.encode(r.prompt, /*add_special=*/true, /*parse_special=*/false);
    std::string text;
    try {
        ChatOptions options = model_.chat_options;
        if (r.tools.active()) options.tools = jinja::json_to_value(r.tools.tools_json, "tools");
        text = render_chat(model_.chat_template, r.messages, options);
    } catch (const Error& e) {
        // The template refused the conversation (raise_exception, limits): the client's doing.
        throw bad_request("invalid_messages", std::string("the chat template refused the messages: ") + e.what());
    }
    // As Conversation does: templates write BOS themselves where the model wants it.
    const auto& bos = model_.chat_options.bos_token;
    const bool has_bos_text = bos && !bos->empty() && text.rfind(*bos, 0) == 0;
    return tok.encode(text, tok.vocab().add_bos() && !has_bos_text, /*parse_special=*/true);
}

void HttpServer::completion(const std::string& body, httplib::Response& res, bool chat) {
    std::vector<std::shared_ptr<Job>> jobs;
    ResponseInfo info;
    try {
        if (auto why = scheduler_.unavailable()) throw device_lost(*why);
        CompletionRequest r = parse_completion_request(body, chat, model_.sampling);
        if (r.tools.active()) {
            info.tool_format = detect_tool_call_format(model_.chat_template);
            if (!info.tool_format) {
                throw bad_request("unsupported_value", template_takes_tools(model_.chat_template)
                                                           ? "'tools': kiln cannot read this model's tool calls (it reads "
                                                             "the Hermes/Qwen, Llama 3 and Mistral formats)"
                                                           : "'tools': the model's chat template takes no tools");
            }
            info.tools = r.tools.tools;
            if (r.tools.forced()) {
                try {
                    const bool parallel = r.tools.parallel && r.tools.choice == ToolRequest::Choice::Required;
                    r.params.grammar = std::make_shared<const Grammar>(
                        Grammar::parse(tool_call_gbnf(*info.tool_format, r.tools.callable(), parallel), "tools"));
                } catch (const Error& e) {
                    throw bad_request("invalid_value", e.what());
                }
            }
        }
        std::vector<int32_t> prompt = prompt_tokens(r);
        if (prompt.empty()) throw bad_request("invalid_value", "the prompt has no tokens");
        if (prompt.size() > static_cast<size_t>(scheduler_.n_ctx())) {
            throw bad_request("context_length_exceeded",
                              "the prompt has " + std::to_string(prompt.size()) + " tokens; the context holds " +
                                  std::to_string(scheduler_.n_ctx()));
        }
        try {
            // `n` choices, each in its own slot; a given seed gives choice i seed + i, so they differ.
            for (int i = 0; i < r.n; ++i) {
                GenerationParams params = r.params;
                if (params.sampling.seed != SamplerParams::kRandomSeed) params.sampling.seed += static_cast<uint64_t>(i);
                jobs.push_back(scheduler_.submit(prompt, params));
            }
        } catch (const Error& e) {
            cancel_all(jobs);
            if (stopping_.load()) throw ApiError(503, "server_error", "shutting_down", e.what());
            if (auto why = scheduler_.unavailable()) throw device_lost(*why);
            throw bad_request("invalid_value", e.what());
        }
        metrics_.requests.fetch_add(1);
        info.chat = chat;
        info.id = (chat ? "chatcmpl-" : "cmpl-") + std::to_string(next_id_.fetch_add(1));
        info.created = static_cast<int64_t>(std::time(nullptr));
        info.model = model_.name;
        info.logprobs = r.params.logprobs >= 0;
        if (!r.stream) {
            answer_whole(res, jobs, info, stopping_);
            return;
        }
    } catch (const ApiError& e) {
        cancel_all(jobs);
        send_error(res, e);
        return;
    } catch (const std::bad_alloc&) {
        cancel_all(jobs);
        send_error(res, ApiError(500, "server_error", "out_of_memory", "out of memory"));
        return;
    } catch (const std::exception& e) {
        cancel_all(jobs);
        send_error(res, bad_request("invalid_request", e.what()));
        return;
    }
    answer_stream(res, std::move(jobs), info, stopping_, open_streams_);
}

}  // namespace kiln::server
