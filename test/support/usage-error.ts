import { expect } from "vitest";
import { UsageError } from "../../services/cli/src/errors";

/** The one line a usage error prints (exit 2); fails the test when `action` throws none. */
export function usageProblem(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("no usage error");
}
