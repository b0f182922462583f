/**
 * The PostgreSQL backend's definition: its target from `.broker.toml` or the
 * `BROKER_BACKEND_*` variables, and a factory that loads the implementation
 * on first use (so resolving a target never loads the client code).
 * @module
 */
import { ConfigError } from "../../core/errors.ts";
import type { BackendDefinition, BrokerConfig } from "../../core/types.ts";
import { DEFAULT_PG_SCHEMA } from "./keys.ts";

export { DEFAULT_PG_SCHEMA } from "./keys.ts";

/** The built-in `postgres` backend (also accepted as `postgresql`). */
export const postgresDefinition: BackendDefinition = {
  name: "postgres",
  resolveTarget: ({ config, target, options }) => postgresTarget(config, target, options),
  async create(target, config) {
    const { createPostgresBackend } = await import("./index.ts");
    return createPostgresBackend({ url: target.target, options: target.backendOptions, config });
  },
};

/**
 * `tomlTarget` (from `.broker.toml`) beats `BROKER_BACKEND_TARGET`, which
 * beats a DSN built from host/port/user/password/database. The schema comes
 * from the TOML options, else the default for a TOML target, else
 * `BROKER_BACKEND_SCHEMA`. `BROKER_BACKEND_PASSWORD` is added to a target
 * that carries none.
 */
export function postgresTarget(
  config: BrokerConfig,
  tomlTarget: string,
  tomlOptions: Record<string, unknown>,
): { target: string; backendOptions: Record<string, unknown> } {
  const explicit = tomlTarget.trim() || config.backendTarget.trim();
  const schema = String("schema" in tomlOptions ? tomlOptions.schema : tomlTarget ? DEFAULT_PG_SCHEMA : config.backendSchema);
  const password = config.backendPassword;
  if (explicit) return { target: withPassword(explicit, password), backendOptions: { schema } };
  const host = requireText(config.backendHost, "BROKER_BACKEND_HOST");
  const user = requireText(config.backendUser, "BROKER_BACKEND_USER");
  const database = requireText(config.backendDatabase, "BROKER_BACKEND_DATABASE");
  const port = config.backendPort;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError("BROKER_BACKEND_PORT must be an integer between 1 and 65535", { key: "BROKER_BACKEND_PORT" });
  }
  const hostPart = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const auth = password ? `${pyQuote(user)}:${pyQuote(password)}` : pyQuote(user);
  return { target: `postgresql://${auth}@${hostPart}:${port}/${pyQuote(database)}`, backendOptions: { schema } };
}

// --- internal ---

/** Add `BROKER_BACKEND_PASSWORD` to a postgres target that carries none. */
function withPassword(target: string, password: string): string {
  if (!password) return target;
  const url = /^(postgres(?:ql)?:\/\/)([^/?#]*)(.*)$/s.exec(target);
  if (!url) {
    if (/\bpassword\s*=/i.test(target)) return target;
    return `${target} password='${password.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  }
  const [, scheme, authority = "", rest] = url;
  const at = authority.lastIndexOf("@");
  const userinfo = at === -1 ? "" : authority.slice(0, at);
  if (userinfo.includes(":")) return target;
  return `${scheme}${userinfo}:${pyQuote(password)}@${authority.slice(at + 1)}${rest}`;
}

function requireText(value: string, key: string): string {
  const text = value.trim();
  if (!text) throw new ConfigError(`${key} must be a non-empty string`, { key });
  return text;
}

/** Python `urllib.parse.quote(s, safe="")`. */
function pyQuote(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
