/** Exit statuses of the CLI (docs/compatibility.md#exit-codes). */
export const EXIT = { OK: 0, ERROR: 1, EMPTY: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
