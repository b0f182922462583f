/** Exit statuses of the CLI (docs/compatibility.md#exit-codes). */
export const EXIT = { OK: 0, ERROR: 1, EMPTY: 2 } as const;
/** Exit statuses after a stop signal: 128 + the signal's number, as a shell reports a process killed by it. */
export const SIGNAL_EXIT = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT] | (typeof SIGNAL_EXIT)[keyof typeof SIGNAL_EXIT];
