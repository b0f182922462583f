// Long runs show progress on stderr only when stderr is a terminal (issue 15:
// `read --all` of 1M messages printed nothing until the end). The reader at
// the end of the pipe holds still past the progress delay (stdout fills the
// pipe and waits), so the run is long on any machine: with a pseudo-terminal
// (`script`) as stderr the progress line appears and is erased at the end;
// with stderr a file, stderr stays empty and stdout carries exactly the
// messages.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "../../index.ts";
import { PROGRESS_DELAY_MS } from "../../cli/progress.ts";
import { childEnv, CLI, tempDir } from "../helpers.ts";

const COUNT = 120;
const BODY = "x".repeat(1000);
const HAS_SCRIPT = Bun.which("script") !== null;
/** Each run lasts at least 1.5 × the progress delay plus two process start-ups; a loaded machine needs room. */
const RUN_TIMEOUT_MS = 30_000;

/** `dir` with COUNT messages in queue `q`; returns the bytes `read --all` prints. */
function fill(dir: string): string {
  using q = new Queue("q", { dbPath: dir });
  const bodies = Array.from({ length: COUNT }, (_, i) => `${i} ${BODY}`);
  q.writeMany(bodies);
  return bodies.map((b) => `${b}\n`).join("");
}

/**
 * A shell pipeline: `broker <args>` into a reader that takes one byte, waits
 * 1.5 × the progress delay, then drains the rest into out.txt. The wait counts
 * from the broker's first message, so however slow the machine, the broker
 * is still running (blocked on the full pipe) once the delay has passed.
 */
function heldPipeline(args: string, stderrTo = ""): string {
  const hold = ((PROGRESS_DELAY_MS * 1.5) / 1000).toFixed(1);
  const reader = `dd bs=1 count=1 of=out.txt 2>/dev/null; sleep ${hold}; cat >> out.txt`;
  return `'${process.execPath}' --no-env-file '${CLI}' ${args} ${stderrTo} | sh -c '${reader}'`;
}

describe("progress on stderr", () => {
  test.skipIf(!HAS_SCRIPT).each([
    ["read q --all", "read"],
    ["move q done --all", "move"],
  ])(
    "%s on a terminal shows a progress line, then erases it",
    async (args, label) => {
      using dir = tempDir("sb-progress-");
      const expected = fill(dir.path);
      // script(1) gives the pipeline a pseudo-terminal as stderr and copies what it shows to its stdout.
      const proc = Bun.spawn(["script", "-qec", heldPipeline(args), "/dev/null"], {
        cwd: dir.path,
        env: childEnv(),
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      });
      const [terminal, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
      expect(code).toBe(0);
      expect(terminal).toMatch(new RegExp(`^\\r${label}: [\\d,]+ messages, [\\d,]+/s\\x1b\\[K`));
      expect(terminal.endsWith("\r\x1b[K")).toBe(true);
      expect(readFileSync(join(dir.path, "out.txt"), "utf8")).toBe(expected);
    },
    RUN_TIMEOUT_MS,
  );

  test.each(["read q --all", "move q done --all"])(
    "%s with stderr not a terminal writes the same bytes as before, and nothing on stderr",
    async (args) => {
      using dir = tempDir("sb-progress-");
      const expected = fill(dir.path);
      const proc = Bun.spawn(["sh", "-c", heldPipeline(args, "2> err.txt")], {
        cwd: dir.path,
        env: childEnv(),
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(await proc.exited).toBe(0);
      expect(readFileSync(join(dir.path, "err.txt"), "utf8")).toBe("");
      expect(readFileSync(join(dir.path, "out.txt"), "utf8")).toBe(expected);
    },
    RUN_TIMEOUT_MS,
  );
});
