/**
 * Adding an alias with SimpleBroker 3.6.1's validation order and messages
 * (docs/compatibility.md#q17-alias-targets-are-validated).
 * @module
 */
import { ArgumentError } from "../core/errors.ts";
import type { Backend } from "../core/types.ts";
import { validateQueueName } from "../core/validate.ts";

/**
 * Add `alias` → `target`. Returns a warning text when a literal queue named
 * `alias` has messages (the alias then hides it for `@alias` operands only).
 */
export async function addAlias(backend: Backend, alias: string, target: string): Promise<string | undefined> {
  validateQueueName(alias);
  if (alias === target) throw new ArgumentError("Alias and target must differ");
  if (target.startsWith("@")) throw new ArgumentError("Target names should not include the '@' prefix");
  if (target === "") throw new ArgumentError("Alias target cannot be empty");
  validateQueueName(target); // targets are queue names (docs/compatibility.md#q17-alias-targets-are-validated)
  await backend.addAlias(alias, target);
  const literal = await backend.queueStats(alias);
  if (literal.total > 0) {
    return `Queue '${alias}' already exists with messages. The alias @${alias} will redirect to '${target}' while the queue ${alias} remains accessible directly.`;
  }
  return undefined;
}
