// Unmodified agents built on Anthropic's libraries, for Airlock's end-to-end
// tests of tool-call policy: each runs with the default base URL and an
// embedded key, is told by the (fake) model to run a Bash command, really
// runs it when it receives the call, and prints one JSON line:
//   {"text": <the final answer's text>, "ran": [<commands it ran>], "error"?: ...}
// Usage: node agent.mjs agent-sdk|tool-runner <prompt>
import { execSync } from 'node:child_process';
import Anthropic from '@anthropic-ai/sdk';
import { betaTool } from '@anthropic-ai/sdk/helpers/beta/json-schema';
import { query } from '@anthropic-ai/claude-agent-sdk';

const LEAKED_KEY = 'sk-ant-api03-FAKE-leaked-key-in-node-agent';
const [mode, prompt] = process.argv.slice(2);
const ran = [];

// The Claude Agent SDK's query(): Claude Code's agent loop as a library,
// with its own Bash tool allowed to run without asking.
async function agentSdk() {
  let text = '';
  const q = query({
    prompt,
    options: {
      model: 'fake-bash', allowedTools: ['Bash'], maxTurns: 4, settingSources: [],
      env: { ...process.env, ANTHROPIC_API_KEY: LEAKED_KEY },
    },
  });
  for await (const m of q) {
    if (m.type !== 'assistant') continue;
    for (const b of m.message.content) {
      if (b.type === 'text') text += b.text + '\n';
      if (b.type === 'tool_use' && b.name === 'Bash') ran.push(b.input.command);
    }
  }
  return { text, ran };
}

// The TypeScript SDK's tool runner: the app's own Bash tool, run for every
// call the model makes until the model ends its turn.
async function toolRunner() {
  const client = new Anthropic({ apiKey: LEAKED_KEY, maxRetries: 0, timeout: 120_000 });
  const bash = betaTool({
    name: 'Bash', description: 'Run a shell command',
    inputSchema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
    run: ({ command }) => { ran.push(command); return execSync(command, { encoding: 'utf8' }); },
  });
  const final = await client.beta.messages.toolRunner({
    model: 'fake-bash', max_tokens: 1024, stream: true, max_iterations: 4,
    messages: [{ role: 'user', content: prompt }], tools: [bash],
  });
  const text = final.content.filter((b) => b.type === 'text').map((b) => b.text).join('\n');
  return { text, ran, stop_reason: final.stop_reason };
}

try {
  console.log(JSON.stringify(await ({ 'agent-sdk': agentSdk, 'tool-runner': toolRunner })[mode]()));
} catch (err) {
  console.log(JSON.stringify({ error: String(err?.message ?? err), ran }));
  process.exit(1);
}
