// Run by structured_output_test.cpp: the official `openai` npm client asks kiln serve for JSON
// (json_object, json_schema strict, streamed and not, chat and completions) and ajv checks every
// answer against its schema. The model is a random-weight synthetic one: left alone its text is
// gibberish, so every valid answer is the grammar's doing.
// With "tools" after the URL (the server then renders Qwen2.5's chat template), a required and
// a named tool call come back as tool_calls whose arguments validate against the function's
// parameters, streamed and not.
// Usage: node structured_output.cjs BASE_URL [tools]   (NODE_PATH must reach openai, ajv, ajv-formats)
"use strict";
const OpenAI = require("openai");
const Ajv = require("ajv");
const addFormats = require("ajv-formats");

let failures = 0;
function check(cond, what) {
  console.log((cond ? "ok   " : "FAIL ") + what);
  if (!cond) failures++;
}

const schemas = [
  { type: "object", properties: { name: { type: "string", maxLength: 10 }, age: { type: "integer", minimum: 0, maximum: 120 } },
    required: ["name", "age"], additionalProperties: false },
  { type: "array", items: { type: "number", minimum: -5, maximum: 5 }, minItems: 1, maxItems: 4 },
  { type: "object", properties: { kind: { enum: ["cat", "dog", null] }, ok: { type: "boolean" },
    when: { type: "string", format: "date" } }, required: ["kind", "ok", "when"], additionalProperties: false },
  { $defs: { leaf: { type: "object", properties: { v: { type: "integer", minimum: 1, maximum: 9 },
    next: { anyOf: [{ $ref: "#/$defs/leaf" }, { type: "null" }] } }, required: ["v", "next"], additionalProperties: false } },
    type: "object", properties: { head: { $ref: "#/$defs/leaf" } }, required: ["head"], additionalProperties: false },
];

async function main() {
  const client = new OpenAI({ baseURL: process.argv[2], apiKey: "k", maxRetries: 0, timeout: 120000 });
  const model = "tiny";
  const ajv = new Ajv({ strict: true });
  addFormats(ajv);
  const messages = [{ role: "user", content: "Answer in JSON." }];
  let valid = 0, cut = 0;
  for (const [i, schema] of schemas.entries()) {
    const validate = ajv.compile(schema);
    for (let seed = 1; seed <= 4; seed++) {
      const response_format = { type: "json_schema", json_schema: { name: "s" + i, strict: true, schema } };
      const r = await client.chat.completions.create({ model, messages, response_format, seed, temperature: 1, max_tokens: 500 });
      const choice = r.choices[0];
      if (choice.finish_reason === "length") { cut++; continue; }
      let value;
      try { value = JSON.parse(choice.message.content); } catch (e) {
        check(false, "schema " + i + " seed " + seed + " parses: " + JSON.stringify(choice.message.content));
        continue;
      }
      const ok = validate(value);
      check(ok, "schema " + i + " seed " + seed + " validates: " + JSON.stringify(value) + (ok ? "" : " " + ajv.errorsText(validate.errors)));
      if (ok) valid++;
    }
  }
  check(valid >= 14, valid + " of 16 json_schema answers validate (" + cut + " cut at max_tokens)");

  // Streamed: the deltas joined are the same JSON.
  const validate0 = ajv.compile(schemas[0]);
  const stream = await client.chat.completions.create({ model, messages, seed: 7, temperature: 1, max_tokens: 500, stream: true,
    response_format: { type: "json_schema", json_schema: { name: "s0", strict: true, schema: schemas[0] } } });
  let text = "";
  for await (const chunk of stream) if (chunk.choices[0] && chunk.choices[0].delta.content) text += chunk.choices[0].delta.content;
  let streamed = null;
  try { streamed = JSON.parse(text); } catch (e) { /* checked below */ }
  check(streamed !== null && validate0(streamed), "a streamed json_schema answer validates: " + JSON.stringify(text));

  // JSON mode: any object.
  for (let seed = 1; seed <= 3; seed++) {
    const r = await client.chat.completions.create({ model, messages, seed, temperature: 1, max_tokens: 500,
      response_format: { type: "json_object" } });
    if (r.choices[0].finish_reason === "length") continue;
    let v = null;
    try { v = JSON.parse(r.choices[0].message.content); } catch (e) { /* checked below */ }
    check(v !== null && typeof v === "object" && !Array.isArray(v), "json_object answer is an object: " + r.choices[0].message.content);
  }

  // Completions take response_format too.
  const c = await client.completions.create({ model, prompt: "JSON:", seed: 2, temperature: 1, max_tokens: 500,
    response_format: { type: "json_schema", json_schema: { name: "s1", schema: schemas[1] } } });
  if (c.choices[0].finish_reason !== "length") {
    let v = null;
    try { v = JSON.parse(c.choices[0].text); } catch (e) { /* checked below */ }
    check(v !== null && ajv.compile(schemas[1])(v), "a completion with json_schema validates: " + c.choices[0].text);
  }

  if (process.argv[3] === "tools") {
    const tools = [
      { type: "function", function: { name: "get_weather", description: "Weather for a city",
        parameters: { type: "object", properties: { city: { type: "string", maxLength: 20 },
          days: { type: "integer", minimum: 1, maximum: 7 } }, required: ["city", "days"], additionalProperties: false } } },
      { type: "function", function: { name: "set_alarm",
        parameters: { type: "object", properties: { hour: { type: "integer", minimum: 0, maximum: 23 },
          label: { enum: ["work", "gym"] } }, required: ["hour", "label"], additionalProperties: false } } },
    ];
    const validators = Object.fromEntries(tools.map((t) => [t.function.name, ajv.compile(t.function.parameters)]));
    const ask = [{ role: "user", content: "What is the weather in Paris?" }];
    const checkCalls = (calls, what) => {
      check(Array.isArray(calls) && calls.length >= 1, what + ": tool_calls present");
      for (const c of calls || []) {
        check(c.type === "function" && typeof c.id === "string" && c.id.length > 0, what + ": a function call with an id");
        const validate = validators[c.function.name];
        let args = null;
        try { args = JSON.parse(c.function.arguments); } catch (e) { /* checked below */ }
        check(validate !== undefined && args !== null && validate(args),
              what + ": " + c.function.name + " arguments validate: " + c.function.arguments);
      }
    };
    // One call each: the grammar then ends the reply (a random model given parallel calls may go
    // on adding them until max_tokens).
    for (let seed = 1; seed <= 3; seed++) {
      const r = await client.chat.completions.create({ model, messages: ask, tools, tool_choice: "required", seed,
        temperature: 1, max_tokens: 300, parallel_tool_calls: false });
      check(r.choices[0].finish_reason === "tool_calls", "required, seed " + seed + ": finish_reason " + r.choices[0].finish_reason);
      checkCalls(r.choices[0].message.tool_calls, "required, seed " + seed);
      check(r.choices[0].message.tool_calls.length === 1, "required, seed " + seed + ": one call without parallel_tool_calls");
    }
    // Parallel calls: every complete one validates, however the reply ended.
    const par = await client.chat.completions.create({ model, messages: ask, tools, tool_choice: "required", seed: 5,
      temperature: 1, max_tokens: 300 });
    checkCalls(par.choices[0].message.tool_calls, "parallel");
    const named = await client.chat.completions.create({ model, messages: ask, tools, seed: 4, temperature: 1, max_tokens: 300,
      tool_choice: { type: "function", function: { name: "set_alarm" } } });
    checkCalls(named.choices[0].message.tool_calls, "named");
    check(named.choices[0].message.tool_calls.every((c) => c.function.name === "set_alarm"), "named: only set_alarm is called");

    // Streamed: the deltas carry the same calls as the whole answer for the same seed.
    const stream = await client.chat.completions.create({ model, messages: ask, tools, tool_choice: "required", seed: 1,
      temperature: 1, max_tokens: 300, stream: true, parallel_tool_calls: false });
    const streamed = [];
    let finish = null;
    for await (const chunk of stream) {
      const ch = chunk.choices[0];
      if (!ch) continue;
      for (const d of (ch.delta && ch.delta.tool_calls) || []) streamed[d.index] = d;
      if (ch.finish_reason) finish = ch.finish_reason;
    }
    checkCalls(streamed, "streamed");
    check(finish === "tool_calls", "streamed: finish_reason " + finish);

    // The calls and their results go back into the template for the next turn.
    const whole = await client.chat.completions.create({ model, messages: ask, tools, tool_choice: "required", seed: 1,
      temperature: 1, max_tokens: 300, parallel_tool_calls: false });
    const call = whole.choices[0].message.tool_calls[0];
    check(JSON.stringify(streamed[0].function) === JSON.stringify(call.function), "streamed and whole calls agree");
    const next = await client.chat.completions.create({ model, tools, temperature: 0, max_tokens: 5, messages: [...ask,
      whole.choices[0].message, { role: "tool", tool_call_id: call.id, content: "21 C and sunny" }] });
    check(typeof next.choices[0].message.content === "string", "a tool result turn is answered");
  }

  // What cannot be enforced is a 400 naming the field, not ignored.
  let status = 0, message = "";
  try {
    await client.chat.completions.create({ model, messages, response_format: { type: "json_schema",
      json_schema: { name: "p", schema: { type: "string", pattern: "^a+$" } } } });
  } catch (e) { status = e.status; message = e.message; }
  check(status === 400 && message.includes("pattern"), "an unsupported schema keyword is a 400: " + message);
  process.exit(failures ? 1 : 0);
}

main().catch((e) => {
  console.log("FAIL " + (e && e.stack ? e.stack : e));
  process.exit(1);
});
