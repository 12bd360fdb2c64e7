import type { z } from "zod";
import { DomainError, type FieldIssue } from "../../domain/errors.ts";

/** zod issues as field issues that name the offending field by its path. */
export function fieldIssues(error: z.ZodError, root?: string): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    const unknownKeys = issue.code === "unrecognized_keys" ? issue.keys : [];
    const field = unknownKeys.length > 0 ? unknownKeys.join(", ") : path || root || "(body)";
    const message = unknownKeys.length > 0 ? "unknown field" : issue.message;
    return { field, message };
  });
}

export function describeIssues(issues: readonly FieldIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join("; ");
}

/** The 400 answer to a request that failed validation, naming every offending field. */
export function invalidRequest(issues: readonly FieldIssue[]): DomainError {
  return new DomainError("REQUEST.INVALID", describeIssues(issues), issues);
}
