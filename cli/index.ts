#!/usr/bin/env bun
/**
 * The `broker` / `simplebroker` executable. Also the `bun build --compile` entry.
 * @module
 */
import { main } from "./main.ts";

process.exitCode = await main(process.argv.slice(2));
