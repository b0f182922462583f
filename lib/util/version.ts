/** The version printed by `--version` (kept in step with package.json). */
export const VERSION = "3.6.1";
