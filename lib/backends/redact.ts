/**
 * Passwords out of targets shown to users: `scheme://user:***@host…` and
 * `password=***` in libpq `key=value` strings. Used by the backends for their
 * `displayTarget` and by target resolution.
 * @module
 */

/**
 * A target for display: `scheme://user:***@host…`, `?password=***` in a URL
 * query, `password=***` in a libpq `key=value` string. The userinfo is taken
 * to end at the last `@`, so a password holding `/`, `?`, `#`, `@`, `:` or
 * `%` unencoded is hidden whole (at worst, more than the password is hidden).
 */
export function redactTarget(target: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(target);
  if (!scheme) return target.replace(/\bpassword\s*=\s*(?:'(?:[^'\\]|\\.)*'?|\S*)/gi, "password=***");
  let rest = target.slice(scheme[0].length);
  const at = rest.lastIndexOf("@");
  const colon = rest.indexOf(":");
  if (at !== -1 && colon !== -1 && colon < at) rest = `${rest.slice(0, colon)}:***${rest.slice(at)}`;
  return scheme[0] + rest.replace(/([?&;]password=)[^&#]*/gi, "$1***");
}
