// Long runs show progress on stderr only when stderr is a terminal (issue 15:
// `read --all` of 1M messages printed nothing until the end). The reader at
// the end of the pipe is held past the progress delay (stdout fills the pipe
// and waits), so the run is long on any machine: with a pseudo-terminal
// (`script`) as stderr the progress line appears and is erased at the end;
// with stderr a file, stderr stays empty and stdout carries exactly the
// messages.
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "../../index.ts";
import { PROGRESS_DELAY_MS } from "../../cli/progress.ts";
import { childEnv, CLI, tempDir } from "../helpers.ts";

const COUNT = 120;
const BODY = "x".repeat(1000);
const HAS_SCRIPT = Bun.which("script") !== null;

/** `dir` with COUNT messages in queue `q`; returns the bytes `read --all` prints. */
function fill(dir: string): string {
  using q = new Queue("q", { dbPath: dir });
  const bodies = Array.from({ length: COUNT }, (_, i) => `${i} ${BODY}`);
  q.writeMany(bodies);
  return bodies.map((b) => `${b}\n`).join("");
}

/** A shell pipeline: `broker <args>`, its stdout drained into out.txt only once the file `go` exists. */
function heldPipeline(args: string, stderrTo = ""): string {
  const drain = "while [ ! -e go ]; do sleep 0.02; done; cat > out.txt";
  return `'${process.execPath}' --no-env-file '${CLI}' ${args} ${stderrTo} | sh -c '${drain}'`;
}

describe("progress on stderr", () => {
  test.skipIf(!HAS_SCRIPT).each([
    ["read q --all", "read"],
    ["move q done --all", "move"],
  ])("%s on a terminal shows a progress line, then erases it", async (args, label) => {
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
    // Hold the reader past the progress delay: the reader blocks on the full pipe meanwhile.
    await Bun.sleep(PROGRESS_DELAY_MS * 1.5);
    writeFileSync(join(dir.path, "go"), "");
    const [terminal, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(code).toBe(0);
    expect(terminal).toMatch(new RegExp(`^\\r${label}: [\\d,]+ messages, [\\d,]+/s\\x1b\\[K`));
    expect(terminal.endsWith("\r\x1b[K")).toBe(true);
    expect(readFileSync(join(dir.path, "out.txt"), "utf8")).toBe(expected);
  });

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
      // Hold the reader past the progress delay, so a terminal would have shown progress by now.
      await Bun.sleep(PROGRESS_DELAY_MS * 1.5);
      writeFileSync(join(dir.path, "go"), "");
      expect(await proc.exited).toBe(0);
      expect(readFileSync(join(dir.path, "err.txt"), "utf8")).toBe("");
      expect(readFileSync(join(dir.path, "out.txt"), "utf8")).toBe(expected);
    },
  );
});
