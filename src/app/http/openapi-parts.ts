/** Building blocks shared by the pieces of the OpenAPI document. */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

export const problemResponse = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ref("Problem") } },
});

export const json = (schema: object, description = "OK") => ({
  description,
  content: { "application/json": { schema } },
});

export const bearer = [{ apiKey: [] }];

export const idParam = { name: "id", in: "path", required: true, schema: { type: "string" } };
