/**
 * Stop signals of the long-running commands (`read --all`, `move --all`,
 * `watch`): SIGINT, SIGTERM and SIGHUP abort the walk instead of killing the
 * process, so the message taken but not yet printed is put back first.
 * @module
 */
import { err } from "./output.ts";
import { EXIT, SIGNAL_EXIT, type ExitCode } from "./exit.ts";

/** The signals that stop a walk. */
export type StopSignal = keyof typeof SIGNAL_EXIT;
const STOP_SIGNALS = Object.keys(SIGNAL_EXIT) as StopSignal[];

/** Run `work` with a signal that aborts (reason: the signal's name) on SIGINT, SIGTERM or SIGHUP. */
export async function withStopSignals<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const handlers = STOP_SIGNALS.map((name) => [name, () => stop.abort(name)] as const);
  for (const [name, handler] of handlers) process.on(name, handler);
  try {
    return await work(stop.signal);
  } finally {
    for (const [name, handler] of handlers) process.off(name, handler);
  }
}

/**
 * The exit status after a stop signal. `read`/`move`: SIGINT ends as
 * SimpleBroker 3.6.1 ends on Ctrl-C (stderr `simplebroker: interrupted`,
 * exit 0), SIGTERM and SIGHUP with 128 + the signal's number. `watch`: SIGINT
 * and SIGTERM are its normal way to stop (exit 0), SIGHUP exits 129.
 */
export function exitAfterSignal(signal: unknown, command: "walk" | "watch"): ExitCode {
  const name = STOP_SIGNALS.includes(signal as StopSignal) ? (signal as StopSignal) : "SIGTERM";
  if (command === "watch") return name === "SIGHUP" ? SIGNAL_EXIT.SIGHUP : EXIT.OK;
  if (name !== "SIGINT") return SIGNAL_EXIT[name];
  err("\nsimplebroker: interrupted\n");
  return EXIT.OK;
}
