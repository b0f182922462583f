import { BackendError } from "../../lib/errors.ts";
import { ARGS, command } from "../command.ts";

export const watch = command(
  { name: "watch", description: "Watch a queue and print messages as they arrive" },
  {
    queue: { type: "positional", description: "Queue name or @alias" },
    peek: { type: "boolean", description: "Print without consuming" },
    move: { type: "string", description: "Move each message to this queue", valueHint: "DEST" },
    json: ARGS.json,
    timestamps: ARGS.timestamps,
    after: ARGS.after,
  },
  async () => {
    throw new BackendError("watch is not implemented yet");
  },
);
