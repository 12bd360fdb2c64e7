/** Building blocks shared by the pieces of the OpenAPI document. */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export const problemResponse = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ref("Problem") } },
});

/**
 * 503 STORE.UNAVAILABLE: a store cannot write (disk full, I/O error,
 * read-only filesystem). The same request succeeds once the store resumes.
 */
export const storeUnavailableResponse = {
  ...problemResponse(
    "STORE.UNAVAILABLE: a store cannot write (the disk is full, an I/O error, a read-only filesystem). Nothing " +
      "accepted before is lost and the store resumes by itself; try again after Retry-After (with the same " +
      "Idempotency-Key: a request refused this way may still have been written)",
  ),
  headers: { "Retry-After": { schema: { type: "integer", minimum: 1 }, description: "Seconds to wait" } },
};

export const json = (schema: object, description = "OK") => ({
  description,
  content: { "application/json": { schema } },
});

export const bearer = [{ apiKey: [] }];

export const idParam = { name: "id", in: "path", required: true, schema: { type: "string" } };
