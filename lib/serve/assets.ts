/**
 * The dashboard's three files, plain HTML, CSS and JavaScript with no build
 * step and nothing fetched from elsewhere. They are imported as text, so
 * they travel inside the package and inside a compiled `broker` binary.
 * @module
 */
import css from "./assets/dashboard.css" with { type: "text" };
import html from "./assets/dashboard.html" with { type: "text" };
import script from "./assets/dashboard.js" with { type: "text" };

/**
 * Only the page's own files may run or style it; data comes from the same
 * origin. With this policy even a body that slipped into markup could not
 * run a script (the page never puts bodies into markup in the first place).
 */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const FILES: Record<string, { text: string; type: string }> = {
  "/": { text: html as unknown as string, type: "text/html; charset=utf-8" },
  "/dashboard.css": { text: css, type: "text/css; charset=utf-8" },
  "/dashboard.js": { text: script, type: "text/javascript; charset=utf-8" },
};

/** The response maker for a dashboard path, or undefined when `path` is not one. */
export function dashboardAsset(path: string): (() => Response) | undefined {
  const file = FILES[path];
  if (!file) return undefined;
  return () =>
    new Response(file.text, {
      headers: {
        "content-type": file.type,
        "content-security-policy": CSP,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cache-control": "no-cache",
      },
    });
}
