/**
 * `node:fs`, loaded on first use. Importing it costs a compiled CLI 3–5 ms of
 * start-up (measured in bench/cli.ts's notes), more than the durable work of
 * one `broker write`; commands whose answer SQLite already gives never load it.
 * @module
 */
type NodeFs = typeof import("node:fs");

let loaded: NodeFs | undefined;

/** The `node:fs` module. */
export function fs(): NodeFs {
  return (loaded ??= require("node:fs") as NodeFs);
}

/** Whether anything in this process asked for `node:fs` through {@link fs} (the start-up tests check it stays false). */
export function fsLoaded(): boolean {
  return loaded !== undefined;
}
