/**
 * `simplebroker/testing`: the behaviour suite every backend must pass, for
 * authors of a backend from outside. Run it under `bun test`:
 *
 *     import { describeBackendContract } from "simplebroker/testing";
 *     describeBackendContract({ name: "memory", create: async () => createMemoryBackend() });
 *
 * See docs/backend-contract.md.
 * @module
 */
export { describeBackendContract } from "./testing/contract.ts";
export type { ContractOptions } from "./testing/contract.ts";
export { describeLeaseContract } from "./testing/leases.ts";
export { defineBackend, REQUIRED_METHODS } from "./backends/index.ts";
export type { Backend, BackendCapabilities, BackendDefinition, IdleConsumer, LocalFiles } from "./core/types.ts";
