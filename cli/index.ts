#!/usr/bin/env -S bun --no-env-file
/**
 * The `broker` / `simplebroker` executable. Also the `bun build --compile` entry
 * (no top-level await, so the binary can be built with `--bytecode`).
 * @module
 */
import { main } from "./main.ts";

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
