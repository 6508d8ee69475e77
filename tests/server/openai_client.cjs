// Run by openai_client_test.cpp: the official `openai` npm package against a running kiln serve.
// Usage: node openai_client.cjs BASE_URL [MODEL_ID]   (NODE_PATH must reach the installed package;
// MODEL_ID defaults to "tiny", the test server's)
// Prints one line per check and exits 1 on the first failure.
"use strict";
const OpenAI = require("openai");

function check(cond, what) {
  if (!cond) {
    console.log("FAIL " + what);
    process.exit(1);
  }
  console.log("ok   " + what);
}

async function main() {
  const client = new OpenAI({ baseURL: process.argv[2], apiKey: "test-key", maxRetries: 0, timeout: 60000 });
  const model = process.argv[3] || "tiny";
  const models = await client.models.list();
  const ids = [];
  for await (const m of models) ids.push(m.id);
  check(ids.length === 1 && ids[0] === model, "models.list gives the served model: " + JSON.stringify(ids));

  const messages = [{ role: "user", content: "Tell me a story." }];
  const plain = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 10 });
  const text = plain.choices[0].message.content;
  check(typeof text === "string" && text.length > 0, "chat.completions.create returns content");
  check(["length", "stop"].includes(plain.choices[0].finish_reason), "finish_reason " + plain.choices[0].finish_reason);
  check(plain.usage.completion_tokens > 0 && plain.usage.total_tokens === plain.usage.prompt_tokens + plain.usage.completion_tokens,
        "usage " + JSON.stringify(plain.usage));

  const stream = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 10, stream: true });
  let streamed = "", chunks = 0, usage = null, finish = null;
  for await (const chunk of stream) {
    chunks++;
    const choice = chunk.choices[0];
    if (choice && choice.delta && choice.delta.content) streamed += choice.delta.content;
    if (choice && choice.finish_reason) finish = choice.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  check(chunks >= 2, "the stream has " + chunks + " chunks");
  check(streamed === text, "the streamed text equals the plain answer");
  check(finish === plain.choices[0].finish_reason, "the stream ends with finish_reason " + finish);
  check(usage && usage.completion_tokens === plain.usage.completion_tokens, "usage in the last chunk");

  const completion = await client.completions.create({ model, prompt: "Once upon a time", max_tokens: 5, temperature: 0 });
  check(typeof completion.choices[0].text === "string" && completion.usage.completion_tokens > 0, "completions.create");

  // logprobs: every token's is <= 0, at temperature 0 the chosen one is the likeliest, and the
  // tokens spell the content.
  const lp = await client.chat.completions.create({ model, messages, temperature: 0, max_tokens: 10, logprobs: true, top_logprobs: 3 });
  const content = lp.choices[0].logprobs && lp.choices[0].logprobs.content;
  check(Array.isArray(content) && content.length > 0, "chat logprobs.content has " + (content ? content.length : 0) + " tokens");
  check(content.every((t) => t.logprob <= 0 && t.top_logprobs.length === 3), "each logprob <= 0 with 3 alternatives");
  check(content.every((t) => t.logprob === t.top_logprobs[0].logprob), "greedy: the chosen token is the likeliest");
  check(content.map((t) => t.token).join("") === lp.choices[0].message.content, "the tokens spell the content");
  const clp = await client.completions.create({ model, prompt: "Once upon a time", max_tokens: 5, temperature: 0, logprobs: 2 });
  const legacy = clp.choices[0].logprobs;
  check(legacy && legacy.tokens.length === 5 && legacy.token_logprobs.every((x) => x <= 0), "completions logprobs: 5 tokens, each <= 0");

  // Embeddings: the client asks for base64 by default and decodes it; both forms agree.
  const emb = await client.embeddings.create({ model, input: ["a cat", "a dog"] });
  check(emb.data.length === 2 && emb.data[0].index === 0 && emb.data[1].index === 1, "embeddings: one per input, in order");
  const v = emb.data[0].embedding;
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  check(v.length > 0 && Math.abs(norm - 1) < 1e-5, "embeddings have the model's width (" + v.length + ") and unit norm (" + norm + ")");
  const floats = await client.embeddings.create({ model, input: "a cat", encoding_format: "float" });
  check(floats.data[0].embedding.every((x, i) => Math.abs(x - v[i]) < 1e-7), "float and base64 embeddings agree");
  check(emb.usage.prompt_tokens > 0, "embeddings usage " + JSON.stringify(emb.usage));

  let status = 0;
  try {
    await client.chat.completions.create({ model, messages: "not a list" });
  } catch (e) {
    status = e.status;
    check(e.error && e.error.code === "invalid_type", "a bad request surfaces OpenAI's error code: " + JSON.stringify(e.error));
  }
  check(status === 400, "a bad request is a 400 APIError");
}

main().catch((e) => {
  console.log("FAIL " + (e && e.stack ? e.stack : e));
  process.exit(1);
});
