/**
 * A JSON-RPC batch's members run side by side (the spec lets a server answer them in any
 * order), each started in turn. Their answers are counted as they are encoded: a batch
 * whose answer would exceed its budget is answered with one error instead, and the members
 * not yet started then never run. Starting them gives the event loop a turn now and then,
 * so a batch of calls answered synchronously does not hold up other callers.
 *
 * @module
 */

import type { ErrorShape } from "../../core/errors.ts";
import { TimeSlice } from "../../core/time_slice.ts";
import { AnswerBudget, answerTooLarge } from "../batch_limits.ts";

/**
 * Runs a batch's members with `run` (each's answer text, or null for a notification); the
 * batch's answer, or `refuse`'s text for the error of an answer over `maxResponseBytes`.
 */
export async function runBatch<Member>(
  members: Member[],
  run: (member: Member) => string | null | Promise<string | null>,
  maxResponseBytes: number,
  refuse: (error: ErrorShape) => string,
): Promise<string | null> {
  const budget = new AnswerBudget(maxResponseBytes);
  budget.take("[]");
  const slice = new TimeSlice();
  const replies: (string | null | Promise<string | null>)[] = [];
  let started = 0;
  let overAt = 0; // how many members had started when the answer went over the budget
  // Past the budget a reply is dropped at once: the batch is answered with the error.
  const count = (reply: string | null): string | null => {
    if (reply === null || overAt) return null;
    if (!budget.take(reply)) overAt = started;
    return reply;
  };
  while (started < members.length && !overAt) {
    const pause = slice.pause();
    if (pause) await pause;
    const reply = run(members[started++]);
    replies.push(reply instanceof Promise ? reply.then(count) : count(reply));
  }
  const settled = await Promise.all(replies);
  if (overAt) {
    return refuse(answerTooLarge("this batch", budget.limit, overAt, members.length));
  }
  const present = settled.filter((r): r is string => r !== null);
  return present.length ? `[${present.join(",")}]` : null;
}
