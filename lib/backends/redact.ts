/**
 * Passwords out of targets shown to users: `scheme://user:***@host…` and
 * `password=***` in libpq `key=value` strings. Used by the backends for their
 * `displayTarget` and by target resolution.
 * @module
 */

/** A target for display: `scheme://user:***@host…` and `password=***`. */
export function redactTarget(target: string): string {
  let out = target;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(out);
  if (scheme) {
    const rest = out.slice(scheme[0].length);
    const end = rest.search(/[/?#]/);
    const authority = end === -1 ? rest : rest.slice(0, end);
    const at = authority.lastIndexOf("@");
    const colon = authority.indexOf(":");
    if (at !== -1 && colon !== -1 && colon < at) {
      out = scheme[0] + authority.slice(0, colon) + ":***" + authority.slice(at) + rest.slice(authority.length);
    }
  }
  return out.replace(/\bpassword\s*=\s*(?:'(?:[^'\\]|\\.)*'|[^\s&]*)/gi, "password=***");
}
