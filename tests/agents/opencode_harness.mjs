// Loads an installed OpenCode plugin file as OpenCode does (every exported function is a plugin,
// called with the plugin context) and drives it with the @opencode-ai/plugin API's shapes:
// `event({ event })` with a `session.idle` event, and `"tool.execute.before"(input, output)`.
// Prints one JSON object: the toasts shown (`client.tui.showToast({ body })`) and each step's result.
//
//   node opencode_harness.mjs PLUGIN_FILE PROJECT_DIR '["idle", "tool:task", ...]'
import { pathToFileURL } from "node:url";

const [pluginPath, directory, stepsJson] = process.argv.slice(2);
const toasts = [];
let step = null;
const client = {
  tui: {
    showToast: async ({ body }) => {
      toasts.push({ step, ...body });
      return { data: true };
    },
  },
};
const context = {
  client,
  project: { id: "test-project", worktree: directory, vcs: "git" },
  directory,
  worktree: directory,
  $: undefined, // Bun's shell: not in Node, and the plugin must not need it
};

const module = await import(pathToFileURL(pluginPath).href);
const plugins = Object.values(module).filter((value) => typeof value === "function");
const hooks = await Promise.all(plugins.map((plugin) => plugin(context)));
const results = [];

for (step of JSON.parse(stepsJson)) {
  if (step === "idle" || step === "busy") {
    const event = { type: `session.${step}`, properties: { sessionID: "ses_test" } };
    for (const hook of hooks) await hook.event?.({ event });
    results.push({ step, done: true });
  } else if (step.startsWith("tool:")) {
    const input = { tool: step.slice(5), sessionID: "ses_test", callID: "call_test" };
    const output = { args: { description: "explore", prompt: "look around", subagent_type: "general" } };
    try {
      for (const hook of hooks) await hook["tool.execute.before"]?.(input, output);
      results.push({ step, allowed: true });
    } catch (error) {
      results.push({ step, allowed: false, error: error.message });
    }
  }
}
console.log(JSON.stringify({ plugins: plugins.length, toasts, results }));
