// Guards the rule that the repository explains itself: every reference to a
// page of docs/ (`docs/compatibility.md#q8-closed-stdout` in a comment, a
// relative link inside docs/ or the README) names a page that exists and an
// anchor that page defines, and no source file cites a document that is not in
// the repository (a specification kept elsewhere, or a sibling folder).
import { describe, expect, test } from "bun:test";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const SOURCES = "{lib,cli,test,stress,bench,examples}/**/*.{ts,py}";

async function read(path: string): Promise<string> {
  return Bun.file(join(ROOT, path)).text();
}

async function files(pattern: string): Promise<string[]> {
  return Array.fromAsync(new Bun.Glob(pattern).scan({ cwd: ROOT }));
}

/** GitHub's heading slug: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors a markdown page defines: explicit `<a id="…">` and its headings' slugs. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const m of markdown.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) anchors.add(slug(heading[1]!));
  }
  return anchors;
}

/** `[page, anchor]` for every `docs/<page>.md[#anchor]` mentioned in source text. */
function sourceRefs(text: string): [string, string | undefined][] {
  return [...text.matchAll(/docs\/([\w.-]+\.md)(?:#([\w-]+))?/g)].map((m) => [`docs/${m[1]}`, m[2]]);
}

/** `[target, anchor]` for every relative markdown link `](target.md#anchor)` or `](#anchor)` of a page. */
function markdownRefs(page: string, text: string): [string, string | undefined][] {
  const refs: [string, string | undefined][] = [];
  for (const m of text.matchAll(/\]\(([^)\s]*?)(?:#([\w-]+))?\)/g)) {
    const target = m[1]!;
    if (/^[a-z]+:/.test(target)) continue; // an outside link (https:, mailto:) is not checked here
    refs.push([target === "" ? page : normalize(join(dirname(page), target)), m[2]]);
  }
  return refs;
}

async function brokenRefs(refs: [string, [string, string | undefined][]][]): Promise<string[]> {
  const anchors = new Map<string, Set<string> | null>();
  const broken: string[] = [];
  for (const [from, list] of refs) {
    for (const [page, anchor] of list) {
      if (!anchors.has(page)) {
        const file = Bun.file(join(ROOT, page));
        anchors.set(page, (await file.exists()) ? (page.endsWith(".md") ? anchorsOf(await file.text()) : new Set()) : null);
      }
      const defined = anchors.get(page);
      if (defined === null) broken.push(`${from}: ${page} does not exist`);
      else if (anchor !== undefined && !defined?.has(anchor)) broken.push(`${from}: ${page} has no anchor #${anchor}`);
    }
  }
  return broken;
}

describe("docs references", () => {
  test("every docs/<page>.md#anchor in the code and tests exists", async () => {
    const refs: [string, [string, string | undefined][]][] = [];
    for (const path of [...(await files(SOURCES)), "index.ts"]) refs.push([path, sourceRefs(await read(path))]);
    expect(refs.some(([, list]) => list.length > 0)).toBe(true);
    expect(await brokenRefs(refs)).toEqual([]);
  });

  test("every relative link of docs/ and the README resolves", async () => {
    const pages = [...(await files("docs/**/*.md")), "README.md"];
    expect(pages.length).toBeGreaterThan(1);
    const refs: [string, [string, string | undefined][]][] = [];
    for (const page of pages) refs.push([page, markdownRefs(page, await read(page))]);
    expect(await brokenRefs(refs)).toEqual([]);
  });

  test("no comment or page cites a document outside the repository", async () => {
    const outside: string[] = [];
    for (const path of [...(await files(SOURCES)), "index.ts", "README.md", ...(await files("docs/**/*.md"))]) {
      const markdown = path.endsWith(".md");
      (await read(path)).split("\n").forEach((line, i) => {
        // A test may load a peer program from a sibling folder (skipping when it is absent); prose may not send readers there.
        const prose = markdown || /^\s*(\/\/|\/?\*|#)/.test(line);
        const hit = /SPEC(?:\.md)? ?§/.exec(line) ?? (prose ? /\.\.\/shared\//.exec(line) : null);
        if (hit) outside.push(`${relative(ROOT, join(ROOT, path))}:${i + 1}: ${hit[0]}`);
      });
    }
    expect(outside).toEqual([]);
  });
});

describe("the reference helpers", () => {
  test("slug follows GitHub's heading anchors", () => {
    expect(slug("Q8 — a reader of stdout that goes away")).toBe("q8--a-reader-of-stdout-that-goes-away");
    expect(slug("SQLite: `meta` keys")).toBe("sqlite-meta-keys");
  });

  test("anchorsOf finds explicit ids and headings, not lines in code fences", () => {
    const page = '<a id="x-1"></a>\n## Hello, world\n```sh\n# not a heading\n```\n';
    expect([...anchorsOf(page)].sort()).toEqual(["hello-world", "x-1"]);
  });
});
