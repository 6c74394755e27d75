// quota-sentinel for OpenCode: written by `quota-sentinel install opencode`, removed by
// `quota-sentinel uninstall opencode`. Plain ESM without dependencies (OpenCode loads it with Bun).
//
// - When a session goes idle it runs one switch check for the project
//   (`quota-sentinel switch --once --json`): models move to their fallbacks from
//   quota-sentinel.jsonc before a quota runs out, and back after. A toast says when a model was
//   switched or a provider turned YELLOW or RED.
// - It refuses to launch a subagent (the `task` tool) while the sentinel says STOP.
// - When the sentinel cannot be asked, it says so once and never blocks anything.
import { execFile } from "node:child_process";

// Filled in by the installer: this machine's quota-sentinel command, and the check's arguments.
const COMMAND = /*QS_COMMAND*/ ["quota-sentinel"];
const CHECK_ARGS = /*QS_CHECK_ARGS*/ ["switch", "--once", "--json"];
const CHECK_TIMEOUT_MS = 120_000;
// A check younger than this decides a subagent launch without asking again.
const FRESH_MS = 10 * 60_000;
const TROUBLE = { YELLOW: "warning", RED: "error" };

function lastLine(text) {
  return String(text || "").trim().split("\n").filter(Boolean).pop() || "";
}

export const QuotaSentinel = async ({ client, directory }) => {
  let last = null; // { at, summary } of the last check that answered
  let running = null; // the check in flight, shared by everyone who asks meanwhile
  let shownProblem = null;
  const seen = {}; // provider -> the status last shown

  const toast = async (message, variant) => {
    try {
      await client.tui.showToast({ body: { title: "quota-sentinel", message, variant } });
    } catch (error) {
      console.error(`quota-sentinel: ${message} (no toast: ${error})`);
    }
  };

  const runCheck = () =>
    new Promise((resolve) => {
      const [file, ...base] = COMMAND;
      const options = { cwd: directory, timeout: CHECK_TIMEOUT_MS, env: process.env };
      execFile(file, [...base, ...CHECK_ARGS], options, (error, stdout, stderr) => {
        const line = lastLine(stdout);
        if (!error && line) {
          try {
            resolve({ ok: true, summary: JSON.parse(line) });
            return;
          } catch (parseError) {
            resolve({ ok: false, problem: `unreadable answer (${parseError.message})` });
            return;
          }
        }
        const problem = lastLine(stderr).replace(/^quota-sentinel: /, "");
        resolve({ ok: false, problem: problem || String(error && error.message) });
      });
    });

  const report = async (summary) => {
    for (const change of summary.changes || []) {
      await toast(
        `${change.target}: ${change.from} → ${change.to} (${change.reason}); from the next session on`,
        "info",
      );
    }
    for (const [name, provider] of Object.entries(summary.providers || {})) {
      const before = seen[name];
      seen[name] = provider.status;
      if (TROUBLE[provider.status] && provider.status !== before) {
        await toast(provider.detail || `${name} ${provider.status}`, TROUBLE[provider.status]);
      }
    }
  };

  const check = async () => {
    running = running || runCheck().finally(() => (running = null));
    const result = await running;
    if (result.ok) {
      last = { at: Date.now(), summary: result.summary };
      shownProblem = null;
      await report(result.summary);
    } else if (result.problem !== shownProblem) {
      shownProblem = result.problem;
      await toast(`could not check the quotas: ${result.problem}`, "warning");
    }
    return result;
  };

  return {
    event: async ({ event }) => {
      if (event && event.type === "session.idle") {
        await check();
      }
    },
    "tool.execute.before": async (input) => {
      if (!input || input.tool !== "task") {
        return;
      }
      let summary = last && Date.now() - last.at < FRESH_MS ? last.summary : null;
      if (!summary) {
        const result = await check();
        summary = result.ok ? result.summary : null;
      }
      const advice = summary && summary.recommendation;
      if (advice && advice.recommendation === "STOP") {
        throw new Error(
          `quota-sentinel says STOP: ${advice.message} Do not launch subagents until a window resets.`,
        );
      }
    },
  };
};
