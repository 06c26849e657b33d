// An unmodified application using the official TypeScript SDK: default base
// URL (https://api.anthropic.com), an API key embedded in the code, no
// Airlock-specific setting. Airlock's end-to-end tests run it inside the
// capture sandbox and assert on what it prints (one JSON line).
// Usage: node client.mjs message|stream|tools [prompt]
import Anthropic from '@anthropic-ai/sdk';

const LEAKED_KEY = 'sk-ant-api03-FAKE-leaked-key-in-node-app'; // what a careless app ships
const client = new Anthropic({ apiKey: LEAKED_KEY, maxRetries: 0, timeout: 60_000 });
const mode = process.argv[2] ?? 'message';
const prompt = process.argv[3] ?? 'Hello from the TypeScript SDK';

const textOf = (m) => m.content.filter((b) => b.type === 'text').map((b) => b.text).join('');

async function message() {
  const m = await client.messages.create({
    model: 'claude-haiku-4-5', max_tokens: 256, messages: [{ role: 'user', content: prompt }],
  });
  return { id: m.id, text: textOf(m), stop_reason: m.stop_reason, usage: m.usage };
}

async function stream() {
  const s = client.messages.stream({
    model: 'claude-haiku-4-5', max_tokens: 256, messages: [{ role: 'user', content: prompt }],
  });
  let deltas = 0;
  s.on('text', () => { deltas++; });
  const m = await s.finalMessage();
  return { id: m.id, text: textOf(m), stop_reason: m.stop_reason, usage: m.usage, deltas };
}

// tools: the model asks for a tool, the app runs it and sends the result back.
async function tools() {
  const toolDefs = [{
    name: 'get_weather', description: 'Current weather for a city',
    input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  }];
  const messages = [{ role: 'user', content: prompt }];
  const first = await client.messages.create({ model: 'fake-tool_use', max_tokens: 256, tools: toolDefs, messages });
  const use = first.content.find((b) => b.type === 'tool_use');
  messages.push({ role: 'assistant', content: first.content });
  messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '18°C and sunny' }] });
  const second = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 256, tools: toolDefs, messages });
  return { tool: use.name, input: use.input, first_stop: first.stop_reason, text: textOf(second), stop_reason: second.stop_reason };
}

const modes = { message, stream, tools };
try {
  console.log(JSON.stringify(await modes[mode]()));
} catch (err) {
  console.log(JSON.stringify({ error: String(err?.message ?? err), status: err?.status ?? 0, type: err?.error?.error?.type ?? '' }));
  process.exit(1);
}
