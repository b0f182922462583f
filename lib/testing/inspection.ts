/**
 * Contract cases of claimed-row inspection (`Selection.includeClaimed` on
 * peeks) and of the rename capability; without rename, the case checks that
 * renaming is refused with a BackendError naming the backend.
 * @module
 */
import { expect } from "bun:test";
import { renameQueue } from "../backends/capabilities.ts";
import { BackendError } from "../core/errors.ts";
import type { Backend } from "../core/types.ts";

/** Register the cases inside the contract suite's `describe`. */
export function describeInspectionCases(
  it: (name: string, fn: () => Promise<void>) => void,
  fresh: () => Promise<Backend>,
): void {
  it("peek includeClaimed also shows claimed rows, in id order, with every selection", async () => {
    const b = await fresh();
    const ids = await b.write("q", ["1", "2", "3", "4"]);
    await b.claim("q", { limit: 1 });
    await b.claim("q", { exactId: ids[2] });
    const bodies = async (sel: Parameters<Backend["peek"]>[1]) => (await b.peek("q", sel)).map((m) => m.body);
    expect(await bodies({ limit: 10 })).toEqual(["2", "4"]);
    expect(await bodies({ limit: 10, includeClaimed: true })).toEqual(["1", "2", "3", "4"]);
    expect(await bodies({ includeClaimed: true })).toEqual(["1"]);
    expect(await bodies({ limit: 2, offset: 1, includeClaimed: true })).toEqual(["2", "3"]);
    expect(await bodies({ limit: 10, after: ids[0], before: ids[3], includeClaimed: true })).toEqual(["2", "3"]);
    expect(await bodies({ exactId: ids[2], includeClaimed: true })).toEqual(["3"]);
    expect(await bodies({ exactId: ids[2] })).toEqual([]);
    expect((await b.queueStats("q")).pending).toBe(2); // inspection changed nothing
  });

  it("rename retags pending and claimed rows and retargets aliases, or is refused", async () => {
    const b = await fresh();
    const ids = await b.write("a", ["1", "2"]);
    await b.claim("a", {});
    await b.write("c", ["x"]);
    await b.addAlias("al", "a");
    if (!b.rename) {
      await expect(renameQueue(b, "a", "b", true)).rejects.toBeInstanceOf(BackendError);
      return;
    }
    await expect(b.rename("a", "c", true)).rejects.toThrow("Target queue already exists");
    expect(await b.rename("zz", "yy", true)).toEqual({ messages: 0, aliases: 0 });
    expect(await b.rename("a", "b", true)).toEqual({ messages: 2, aliases: 1 });
    expect((await b.queueStats("a")).total).toBe(0);
    expect(await b.queueStats("b")).toMatchObject({ pending: 1, claimed: 1, total: 2 });
    expect((await b.peek("b", { limit: 10, includeClaimed: true })).map((m) => m.ts)).toEqual(ids);
    expect(await b.resolveAlias("al")).toBe("b");
    expect((await b.claim("b", {})).map((m) => m.body)).toEqual(["2"]);
    expect(await b.rename("b", "d", false)).toEqual({ messages: 2, aliases: 0 });
    expect(await b.resolveAlias("al")).toBe("b");
    expect((await b.write("d", ["3"]))[0]! > ids[1]!).toBe(true);
  });
}
